/** @odoo-module */

import { registry } from "@web/core/registry";

// A clinic manager opens a credit note waiting for approval, approves it with a comment.
registry.category("web_tour.tours").add("nordic_credit_approval_tour", {
    steps: () => [
        {
            content: "The credit note waits for validation: approve it",
            trigger: ".o_form_view .alert-warning button[name='validate_tier']",
            run: "click",
        },
        {
            content: "Say why",
            trigger: ".modal div[name='comment'] input",
            run: "edit Agreed with the patient after the complaint",
        },
        {
            content: "Confirm the approval",
            trigger: ".modal button[name='add_comment']",
            run: "click",
        },
        {
            content: "The credit note is validated",
            trigger: ".o_form_view .alert-success:contains(validated)",
        },
    ],
});
