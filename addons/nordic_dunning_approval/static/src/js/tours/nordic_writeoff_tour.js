/** @odoo-module */

import { registry } from "@web/core/registry";

// The CFO writes off an invoice whose collection failed, overriding the missing case with a reason.
registry.category("web_tour.tours").add("nordic_writeoff_tour", {
    steps: () => [
        {
            content: "Open the write-off wizard from the invoice",
            trigger: ".o_form_view button[name='action_nordic_writeoff']",
            run: "click",
        },
        {
            content: "The wizard shows why this is no confirmed loss yet",
            trigger: ".modal .alert-warning:contains(no collection case)",
        },
        {
            content: "Reason of the write-off",
            trigger: ".modal div[name='reason'] input",
            run: "edit Agency reported the collection failed",
        },
        {
            content: "CFO override reason",
            trigger: ".modal div[name='override_reason'] input",
            run: "edit Patient emigrated; no assets",
        },
        {
            content: "Propose the write-off",
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The write-off entry waits for approval",
            trigger: ".o_form_view .o_field_widget[name='nordic_writeoff_invoice_id']",
        },
        {
            trigger: ".o_form_view .alert-warning:contains(needs to be)",
        },
    ],
});
