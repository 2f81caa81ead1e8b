/** @odoo-module */

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("nordic_dunning_invoice_tour", {
    steps: () => [
        {
            content: "Open the Dunning tab of the overdue invoice",
            trigger: ".o_notebook .nav-link:contains(Dunning)",
            run: "click",
        },
        {
            content: "The next dunning level is planned",
            trigger: ".o_field_widget[name=nordic_dunning_next_level_id]:contains(Betalningspåminnelse 1)",
        },
        {
            content: "The invoice was sent, so it may be dunned",
            trigger: ".o_field_widget[name=nordic_is_sent] input:checked",
        },
    ],
});

registry.category("web_tour.tours").add("nordic_dunning_run_tour", {
    steps: () => [
        {
            content: "Create a run",
            trigger: ".o_control_panel_main_buttons .o_list_button_add",
            run: "click",
        },
        {
            content: "Choose the policy",
            trigger: ".o_field_widget[name=policy_id] input",
            run: "edit Kravrutin",
        },
        {
            trigger: ".ui-menu-item a:contains(Kravrutin)",
            run: "click",
        },
        {
            content: "Build the proposal",
            trigger: "button[name=action_generate]",
            run: "click",
        },
        {
            content: "The overdue invoice is proposed",
            trigger: ".o_field_widget[name=line_ids] .o_data_row td:contains(Betalningspåminnelse 1)",
        },
        {
            content: "Confirm the run",
            trigger: "button[name=action_confirm]",
            run: "click",
        },
        {
            content: "Accept the confirmation",
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The run is confirmed",
            trigger: ".o_statusbar_status button[aria-checked=true]:contains(Confirmed)",
        },
    ],
});
