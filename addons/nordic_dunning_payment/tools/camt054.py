"""ISO 20022 camt.054 (bank to customer debit/credit notification), read with OCA's camt parser.

The XML is parsed here without lxml's error recovery (a broken file is refused, not half read), the version
is checked by OCA's ``check_version`` (camt.052/053/054), and every ``Ntry`` goes through OCA's
``parse_entry`` (amount, booking date, payer name, one transaction per ``TxDtls``). The references come from
the same ``TxDtls`` node: the structured creditor reference ``RmtInf/Strd/CdtrRefInf/Ref`` (the OCR/KID),
else the unstructured ``RmtInf/Ustrd``. Only credits (``CRDT``) are payments in.

Checks: well-formed XML of a camt namespace; each entry's amount equals the sum of its transactions'
amounts when they carry any; ``TxsSummry/TtlNtries`` (count and sum), when present, match the entries.
The file's reference is ``GrpHdr/MsgId``.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from odoo import _

from .rows import PaymentFile, PaymentFileError, PaymentRow

SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _text(node, path, ns):
    found = node.xpath(path, namespaces={"ns": ns})
    return found[0].text.strip() if found and found[0].text else ""


def _where(where):
    if isinstance(where, tuple):
        return _("Entry %(number)s (line %(line)s)", number=where[0], line=where[1])
    return where


def _decimal(text, where):
    try:
        amount = Decimal(text)
        if not amount.is_finite():
            raise InvalidOperation
        return amount
    except (InvalidOperation, TypeError):
        raise PaymentFileError(_("%(where)s: %(text)r is not an amount.", where=_where(where), text=text)) from None


def _check_entry(entry, ns, where):
    amount = _decimal(_text(entry, "./ns:Amt", ns), where)
    details = entry.xpath("./ns:NtryDtls/ns:TxDtls", namespaces={"ns": ns})
    amounts = [
        _decimal(_text(tx, "./ns:Amt | ./ns:AmtDtls/ns:TxAmt/ns:Amt", ns), where)
        for tx in details
        if tx.xpath("./ns:Amt | ./ns:AmtDtls/ns:TxAmt/ns:Amt", namespaces={"ns": ns})
    ]
    if amounts and sum(amounts) != amount:
        raise PaymentFileError(
            _(
                "%(where)s: the entry's amount %(amount)s is not the sum %(sum)s of its transactions.",
                where=_where(where),
                amount=amount,
                sum=sum(amounts),
            )
        )
    return amount, details or [entry]


def parse(camt_parser, data):
    """Parse camt.054 bytes with OCA's parser model ``camt_parser`` into a :class:`PaymentFile`."""
    try:
        root = etree.fromstring(data, parser=SAFE_PARSER)
    except etree.XMLSyntaxError as err:
        raise PaymentFileError(_("Not a well-formed XML file: %s", err)) from None
    if "}" not in root.tag:
        raise PaymentFileError(_("Not a camt file: the XML has no ISO 20022 namespace."))
    ns = root.tag[1 : root.tag.index("}")]
    try:
        camt_parser.check_version(ns, root)
    except (ValueError, IndexError) as err:
        raise PaymentFileError(_("Not a camt.054 file: %s", err)) from None
    msg_id = _text(root, "./*/ns:GrpHdr/ns:MsgId", ns)
    if not msg_id:
        raise PaymentFileError(_("The camt file has no message id (GrpHdr/MsgId)."))
    rows, currency = [], ""
    notifications = root.xpath("./*/ns:Ntfctn | ./*/ns:Stmt | ./*/ns:Rpt", namespaces={"ns": ns})
    for notification in notifications:
        entries = notification.xpath("./ns:Ntry", namespaces={"ns": ns})
        total = Decimal(0)
        for number, entry in enumerate(entries, 1):
            where = (number, entry.sourceline)
            amount, nodes = _check_entry(entry, ns, where)
            total += amount
            currency = currency or "".join(entry.xpath("./ns:Amt/@Ccy", namespaces={"ns": ns})[:1])
            transactions = list(camt_parser.parse_entry(ns, entry))
            for node, transaction in zip(nodes, transactions, strict=True):
                sign = -1 if _text(entry, "./ns:CdtDbtInd", ns) == "DBIT" else 1
                tx_amount = _text(node, "./ns:Amt | ./ns:AmtDtls/ns:TxAmt/ns:Amt", ns)
                value = _decimal(tx_amount, where) * sign if tx_amount else amount * sign
                structured = _text(node, "./ns:RmtInf/ns:Strd/ns:CdtrRefInf/ns:Ref", ns)
                unstructured = _text(node, "./ns:RmtInf/ns:Ustrd", ns)
                rows.append(
                    PaymentRow(
                        date=transaction.get("date") and _date(transaction["date"], where),
                        amount=value,
                        currency=currency,
                        reference=structured or unstructured,
                        payer_name=transaction.get("partner_name") or "",
                        raw=etree.tostring(node, encoding="unicode", pretty_print=True)[:2000],
                        line_no=node.sourceline,
                    )
                )
        summary = notification.xpath("./ns:TxsSummry/ns:TtlNtries", namespaces={"ns": ns})
        if summary:
            count = _text(summary[0], "./ns:NbOfNtries", ns)
            expected_sum = _text(summary[0], "./ns:Sum", ns)
            if (count and count != str(len(entries))) or (
                expected_sum and _decimal(expected_sum, "TtlNtries") != total
            ):
                raise PaymentFileError(
                    _(
                        "Line %(line)s: the summary counts %(count)s entries of %(sum)s; "
                        "the file has %(found)s of %(total)s.",
                        line=summary[0].sourceline,
                        count=count,
                        sum=expected_sum,
                        found=len(entries),
                        total=total,
                    )
                )
    if not rows:
        raise PaymentFileError(_("The camt file has no entries."))
    return PaymentFile("camt054", msg_id, currency, rows)


def _date(text, where):
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise PaymentFileError(_("%(where)s: %(text)r is not a date.", where=_where(where), text=text)) from None
