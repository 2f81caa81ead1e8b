"""The legal profiles: each country's routine as shipped, created as an ordinary, editable policy, and the
income accounts its fees and interest are booked on."""


def _handover_level(sequence, name, delay, unit="days", weekday=None):
    """A profile's last level: the hand-over to collection, which gives no deadline and sends nothing."""
    level = {
        "sequence": sequence,
        "name": name,
        "kind": "handover",
        "delay": delay,
        "delay_unit": unit,
        "delay_base": "previous",
        "fee_rule": "none",
        "interest": False,
        "payment_term_days": 0,
        "channel_email": False,
        "channel_letter": False,
    }
    if weekday:
        level["weekday"] = weekday
    return level


# Legal profiles: the routines of the seed documents, created as ordinary, editable policies.
PROFILES = {
    "SE": {
        "name": "Kravrutin kundfordringar (SE)",
        "confirm_mode": "manual",
        "interest_mode": "show",
        "min_invoice_age": 1,
        "levels": [
            {
                "sequence": 1,
                "name": "Betalningspåminnelse 1",
                "kind": "reminder",
                "delay": 5,
                "delay_unit": "business_days",
                "delay_base": "due",
                "fee_rule": "fixed",
                "fee_amount": 60.0,
                # Six days to pay, moved to the next business day: the next reminder, five business days
                # later (at least a week), comes only once that last day has passed.
                "payment_term_days": 6,
                "channel_email": True,
                "channel_letter": True,
            },
            {
                "sequence": 2,
                "name": "Betalningspåminnelse 2",
                "kind": "reminder",
                "delay": 5,
                "delay_unit": "business_days",
                "delay_base": "previous",
                "fee_rule": "none",
                "payment_term_days": 5,
                "channel_email": True,
                "channel_letter": True,
            },
            # Five business days after the second reminder, so never before its last day to pay.
            _handover_level(3, "Överlämning till huvudkontoret för inkasso", 5, "business_days"),
        ],
    },
    "NO": {
        "name": "Purring og inkasso (NO)",
        "confirm_mode": "scheduled",
        "confirm_weekday": "3",
        "confirm_hour": 8.0,
        "interest_mode": "show",
        "min_invoice_age": 14,
        "levels": [
            {
                "sequence": 1,
                "name": "Inkassovarsel",
                "kind": "collection_notice",
                "delay": 14,
                "delay_unit": "days",
                "delay_base": "due",
                "fee_rule": "no_reminder",
                "payment_term_days": 14,
                "channel_email": True,
                "channel_letter": True,
            },
            _handover_level(2, "Inkassoliste: overføring til inkasso", 15, weekday="1"),
        ],
    },
}

PROFILES["DK"] = {
    "name": "Rykkerprocedure (DK)",
    "confirm_mode": "manual",
    "interest_mode": "show",
    "min_invoice_age": 1,
    # Renteloven § 9 b: at most three fee-bearing reminders of at most 100 kr, at least ten days apart.
    "levels": [
        {
            "sequence": number,
            "name": f"Rykker {number}",
            "kind": "reminder",
            "delay": 10 if number == 1 else 11,
            "delay_unit": "days",
            "delay_base": "due" if number == 1 else "previous",
            "fee_rule": "fixed",
            "fee_amount": 100.0,
            "payment_term_days": 10,
            "channel_email": True,
            "channel_letter": True,
        }
        for number in (1, 2, 3)
    ]
    + [_handover_level(4, "Overdragelse til inkasso", 11)],
}
PROFILES["FI"] = {
    "name": "Maksumuistutukset ja perintä (FI)",
    "confirm_mode": "manual",
    "interest_mode": "show",
    "min_invoice_age": 14,
    # Perintälaki 10 e §: a consumer's reminder fee at most 5 €, for at most three reminders, the first one at
    # the earliest 14 days after the due date; a collection demand gives at least 14 days (5 §).
    "levels": [
        {
            "sequence": 1,
            "name": "Maksumuistutus 1",
            "kind": "reminder",
            "delay": 14,
            "delay_unit": "days",
            "delay_base": "due",
            "fee_rule": "fixed",
            "fee_amount": 5.0,
            "payment_term_days": 14,
            "channel_email": True,
            "channel_letter": True,
        },
        {
            "sequence": 2,
            "name": "Maksumuistutus 2",
            "kind": "reminder",
            "delay": 15,
            "delay_unit": "days",
            "delay_base": "previous",
            "fee_rule": "fixed",
            "fee_amount": 5.0,
            "payment_term_days": 14,
            "channel_email": True,
            "channel_letter": True,
        },
        _handover_level(3, "Siirto perintään", 15),
    ],
}

# Income accounts for fees and interest by legal profile: the first code found in the chart is used;
# when none is, the first one is created with this name (BAS: 3930 Påminnelseavgifter, 8313
# Ränteintäkter från kundfordringar; Odoo's l10n_se chart has neither).
FEE_ACCOUNTS = {
    "SE": (["3930"], "Påminnelseavgifter", "income_other"),
    "NO": (["3900"], "Purregebyr", "income_other"),
    "DK": (["1090"], "Rykkergebyrer", "income_other"),
    "FI": (["3710"], "Muistutusmaksut", "income_other"),
}
INTEREST_ACCOUNTS = {
    "SE": (["8313"], "Ränteintäkter från kundfordringar", "income_other"),
    "NO": (["8040"], "Forsinkelsesrenter fra kunder", "income_other"),
    "DK": (["2420"], "Morarenter fra kunder", "income_other"),
    "FI": (["9160"], "Viivästyskorkotuotot", "income_other"),
}
