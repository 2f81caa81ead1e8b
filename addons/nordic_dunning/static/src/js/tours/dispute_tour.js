import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("nordic_dunning_dispute_tour", {
    steps: () => [
        {
            content: "Register a dispute from the invoice",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_nordic_register_dispute']",
            run: "click",
        },
        {
            content: "Only part of the invoice is disputed",
            trigger: ".modal .o_field_widget[name='scope'] input[data-value='partial']",
            run: "click",
        },
        {
            content: "Disputed amount",
            trigger: ".modal .o_field_widget[name='amount'] input",
            run: "edit 400",
        },
        {
            content: "Reason",
            trigger: ".modal .o_field_widget[name='reason'] input",
            run: "edit Second visit never took place",
        },
        {
            content: "The customer's words",
            trigger: ".modal .o_field_widget[name='customer_statement'] textarea",
            run: "edit I cancelled the second appointment by phone.",
        },
        {
            content: "Save the dispute",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The dialog closes",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "Open the Disputes tab",
            trigger: ".o_notebook .nav-link:contains(Disputes)",
            run: "click",
        },
        {
            content: "The dispute is listed on the invoice",
            trigger: ".o_field_widget[name='nordic_dispute_ids'] .o_data_row:contains(Second visit never took place)",
        },
    ],
});
