"""Amounts in words, in the customer's language (num2words through Odoo)."""

from num2words import num2words


def amount_in_words(currency, amount, lang):
    """``amount`` of ``currency`` in words in ``lang`` (an Odoo language code such as ``sv_SE``)."""
    currency = currency.with_context(lang=lang)
    if lang[:2] not in ("nb", "nn"):
        return currency.amount_to_text(amount)
    # num2words knows Norwegian as "no"; Odoo passes "nb_NO" and would fall back to English.
    integral, _sep, fractional = f"{amount:.{currency.decimal_places}f}".partition(".")
    words = f"{num2words(int(integral), lang='no')} {currency.currency_unit_label}"
    if int(fractional or 0):
        words += f" og {num2words(int(fractional), lang='no')} {currency.currency_subunit_label}"
    return words[:1].upper() + words[1:]
