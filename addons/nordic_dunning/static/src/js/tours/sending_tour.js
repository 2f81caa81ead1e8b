/** @odoo-module */

import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("nordic_dunning_sending_progress_tour", {
    steps: () => [
        {
            content: "The confirmed run says it is sending in the background, with its progress",
            trigger: ".alert[name=sending]:contains(Sending in the background):contains(Fees 0/3)",
        },
        {
            content: "Letters and e-mails are still to come",
            trigger: ".alert[name=sending]:contains(Letters 0/3):contains(E-mails 0/3)",
        },
    ],
});

registry.category("web_tour.tours").add("nordic_dunning_sent_notice_tour", {
    steps: () => [
        {
            content: "Everything was sent: the banner is gone and the progress is complete",
            trigger: ".o_form_view:not(:has(.alert[name=sending])) .o_field_widget[name=sending_progress]:contains(Fees 3/3):contains(Letters 3/3):contains(E-mails 3/3)",
        },
        {
            content: "Open the run's notices",
            trigger: ".o_notebook .nav-link:contains(Notices)",
            run: "click",
        },
        {
            content: "One reminder for the customer's three invoices",
            trigger: ".o_field_widget[name=notice_ids] .o_data_row:contains(Patient Ada) td[name=event_count]:contains(3)",
        },
        {
            content: "Its letter is one PDF, stored with the notice",
            trigger: ".o_field_widget[name=notice_ids] .o_data_row:contains(Patient Ada) td[name=attachment_id]:contains(.pdf)",
        },
    ],
});
