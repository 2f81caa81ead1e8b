"""Small writers of payment files, per the published layouts, for the tests (no real bank's file)."""

from datetime import date
from decimal import Decimal

import netsgiro


def _record(kind, body):
    line = kind + body
    assert len(line) <= 80, line
    return line.ljust(80)


def bgmax(payments, day=date(2026, 4, 15), stamp="20260415083000123456", payee="9912346", deposit=None, count=None):
    """A BgMax file of one section; ``payments`` are dicts: reference, amount (kr), and optionally name,
    org_no, extra (references), kind ("20" or "21"). ``deposit``/``count`` override the deposit record."""
    lines = [_record("01", "BGMAX".ljust(20) + "01" + stamp + "P")]
    lines.append(_record("05", payee.rjust(10, "0") + "0" * 10 + "SEK"))
    total = 0
    counts = {"20": 0, "21": 0, "22": 0}
    for serial, payment in enumerate(payments, 1):
        ore = round(Decimal(str(payment["amount"])) * 100)
        kind = payment.get("kind", "20")
        counts[kind] += 1
        total += -ore if kind == "21" else ore
        lines.append(
            _record(
                kind,
                "0000123456"
                + payment["reference"].ljust(25)
                + str(ore).rjust(18, "0")
                + "2"
                + "1"
                + str(serial).rjust(12, "0")
                + "0",
            )
        )
        for extra in payment.get("extra", []):
            counts["22"] += 1
            lines.append(_record("22", "0000123456" + extra.ljust(25) + "0" * 18 + "2" + "1" + "0" * 12 + "0"))
        if payment.get("name"):
            lines.append(_record("26", payment["name"].ljust(35)))
        if payment.get("org_no"):
            lines.append(_record("29", payment["org_no"].rjust(12, "0")))
    number = counts["20"] + counts["21"]
    lines.append(
        _record(
            "15",
            "1234567890".rjust(35, "0")
            + day.strftime("%Y%m%d")
            + "00001"
            + str(total if deposit is None else deposit).rjust(18, "0")
            + "SEK"
            + str(number if count is None else count).rjust(8, "0")
            + " ",
        )
    )
    lines.append(_record("70", "".join(str(counts[k]).rjust(8, "0") for k in ("20", "21", "22")) + "00000001"))
    return ("\r\n".join(lines) + "\r\n").encode("iso-8859-1")


def ocr_giro(payments, day=date(2026, 4, 15), number="1000081"):
    """A Nets OCR giro file of one assignment; ``payments`` are dicts: kid, amount (kr)."""
    transmission = netsgiro.Transmission(
        number=number, data_transmitter="55555555", data_recipient="00008080", date=day
    )
    assignment = transmission.add_assignment(
        service_code=netsgiro.ServiceCode.OCR_GIRO,
        assignment_type=netsgiro.AssignmentType.TRANSACTIONS,
        number="4000086",
        account="88888888888",
        date=day,
    )
    for index, payment in enumerate(payments, 1):
        assignment.transactions.append(
            netsgiro.Transaction(
                service_code=netsgiro.ServiceCode.OCR_GIRO,
                type=netsgiro.TransactionType.FROM_GIRO_DEBITED_ACCOUNT,
                number=index,
                date=day,
                amount=Decimal(str(payment["amount"])),
                kid=payment["kid"],
                reference="000000000",
                text=None,
                centre_id="13",
                day_code=day.day,
                partial_settlement_number=1,
                partial_settlement_serial_number="01234",
                sign="0",
                form_number="9636827194",
                bank_date=day,
                debit_account="99990512341",
                filler="0000000",
            )
        )
    return (transmission.to_ocr() + "\n").encode("iso-8859-1")


CAMT_NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.04"


def camt054(payments, day=date(2026, 4, 15), msg_id="MSG-20260415-1", currency="SEK", summary=None):
    """A camt.054 notification, one entry per payment; ``payments`` are dicts: amount, and ref (structured
    creditor reference) or ustrd (unstructured), optionally name. ``summary`` overrides (count, sum)."""
    entries = []
    for index, payment in enumerate(payments, 1):
        remittance = (
            f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{payment['ref']}</Ref>"
            "</CdtrRefInf></Strd>"
            if payment.get("ref")
            else f"<Ustrd>{payment.get('ustrd', '')}</Ustrd>"
        )
        name = f"<RltdPties><Dbtr><Nm>{payment['name']}</Nm></Dbtr></RltdPties>" if payment.get("name") else ""
        amount = f"{Decimal(str(payment['amount'])):.2f}"
        entries.append(
            f"""<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{day.isoformat()}</Dt></BookgDt><ValDt><Dt>{day.isoformat()}</Dt></ValDt>
<AcctSvcrRef>SVC{index:06d}</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E{index:06d}</EndToEndId></Refs><Amt Ccy="{currency}">{amount}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd>{name}<RmtInf>{remittance}</RmtInf></TxDtls></NtryDtls></Ntry>"""
        )
    total = sum(Decimal(str(p["amount"])) for p in payments)
    count, total = summary or (len(payments), total)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{CAMT_NS}"><BkToCstmrDbtCdtNtfctn>
<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{day.isoformat()}T08:00:00</CreDtTm></GrpHdr>
<Ntfctn><Id>NTF-{msg_id}</Id><CreDtTm>{day.isoformat()}T08:00:00</CreDtTm>
<Acct><Id><IBAN>SE4550000000058398257466</IBAN></Id><Ccy>{currency}</Ccy></Acct>
<TxsSummry><TtlNtries><NbOfNtries>{count}</NbOfNtries><Sum>{Decimal(total):.2f}</Sum></TtlNtries></TxsSummry>
{"".join(entries)}
</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>""".encode()
