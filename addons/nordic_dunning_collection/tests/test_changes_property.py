"""Property: whatever an agency's feed sends, sidecar_apply_changes never fails the page, applies each valid
change exactly once, and never moves the stored cursor backwards (hypothesis generates the pages)."""

import math
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from .collection_common import NordicCollectionCommon

AGENCY_STATES = ["submitted", "active", "paused", "paid", "partly_paid", "surveillance", "failed", "withdrawn"]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["1e309", "nan", "-inf", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00Z", "", "EUR"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
KEYS = ["id", "uuid", "external_id", "kind", "state", "agency_status", "amount", "currency", "occurred_at", "data"]
WHEN = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 6, 30)).map(
    lambda moment: moment.isoformat() + "Z"
)


def valid_change(case_index, change_id):
    """A well-formed change for case number ``case_index`` (its uuid is filled in by the test)."""
    state = st.fixed_dictionaries(
        {"kind": st.just("state"), "state": st.sampled_from(AGENCY_STATES), "agency_status": st.text(max_size=10)}
    )
    cost = st.fixed_dictionaries(
        {
            "kind": st.sampled_from(["fee", "interest"]),
            "amount": st.floats(min_value=0.01, max_value=200.0).map(lambda a: round(a, 2)),
        }
    )
    payment = st.fixed_dictionaries(
        {"kind": st.just("payment"), "amount": st.floats(min_value=1.0, max_value=3000.0).map(lambda a: round(a, 2))}
    )
    dispute = st.fixed_dictionaries({"kind": st.just("dispute"), "data": st.just({"text": "Not mine"})})
    return st.tuples(st.one_of(state, cost, cost, payment, dispute), WHEN).map(
        lambda pair: {"id": change_id, "case": case_index, "occurred_at": pair[1], **pair[0]}
    )


@st.composite
def pages(draw):
    """A page: valid changes (some ids repeated), changes with one key spoiled, and plain junk."""
    size = draw(st.integers(min_value=1, max_value=40))
    items = []
    for _i in range(size):
        change_id = f"c{draw(st.integers(min_value=0, max_value=400))}"
        change = draw(valid_change(draw(st.integers(min_value=0, max_value=2)), change_id))
        mode = draw(st.sampled_from(["valid", "valid", "valid", "spoiled", "junk"]))
        if mode == "spoiled":
            change[draw(st.sampled_from(KEYS))] = draw(JUNK)
        elif mode == "junk":
            change = draw(st.one_of(JUNK, st.dictionaries(st.sampled_from(KEYS), JUNK, max_size=5)))
        items.append(change)
    return items


@tagged("post_install", "-at_install")
class TestChangesProperty(NordicCollectionCommon):
    """Generated agency feeds against the real sidecar_apply_changes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cases = cls.make_case(1000.0) | cls.make_case(500.0) | cls.make_case(250.0)
        api = cls.Case.with_user(cls.sidecar_user)
        claimed = api.sidecar_claim(cls.agency.id, 10, "prop")
        api.sidecar_record_submissions(
            cls.agency.id, [{"uuid": c["uuid"], "external_id": f"P-{c['id']}", "state": "submitted"} for c in claimed]
        )

    def materialize(self, page):
        """The page as the sidecar sends it: the case index replaced by that case's uuid."""
        result = []
        for item in page:
            if isinstance(item, dict) and isinstance(item.get("case"), int):
                item = dict(item)
                item["uuid"] = self.cases[item.pop("case")].uuid
            result.append(item)
        return result

    def state_of_books(self):
        self.env.invalidate_all()
        cases = [
            (c.state, c.amount_paid, c.agency_fees, c.agency_interest, c.amount_excess, len(c.payment_ids))
            for c in self.cases
        ]
        self.env.cr.execute(
            "SELECT change_id, state FROM nordic_collection_case_change WHERE change_id IS NOT NULL ORDER BY id"
        )
        return cases, self.env.cr.fetchall()

    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(pages(), min_size=1, max_size=3), st.lists(st.integers(min_value=0, max_value=10**6), min_size=3))
    def test_any_feed(self, feed, cursors):
        """No exception escapes a page; a page sent again changes nothing; every change id is stored once; no
        payment is booked above the claim; the stored cursor is the largest ever sent."""
        savepoint = self.env.cr.savepoint()
        try:
            api = self.Case.with_user(self.sidecar_user)
            self.agency.sudo().cursor = False
            highest = None
            for page, position in zip(feed, cursors, strict=False):
                page = self.materialize(page)
                result = api.sidecar_apply_changes(self.agency.id, page, cursor=str(position))
                self.assertEqual(result["applied"] + result["duplicates"] + len(result["quarantined"]), len(page))
                highest = position if highest is None else max(highest, position)
                self.assertEqual(self.agency.cursor, str(highest))
                before = self.state_of_books()
                again = api.sidecar_apply_changes(self.agency.id, page, cursor=str(position))
                self.assertEqual(again["applied"], 0, "a page sent again applies nothing")
                self.assertEqual(self.state_of_books(), before)
                ids = [row[0] for row in before[1]]
                self.assertEqual(len(ids), len(set(ids)), "each change id is stored once")
                for case in self.cases:
                    claim = (
                        case.amount_principal
                        + case.amount_fees
                        + case.amount_interest
                        + case.agency_fees
                        + case.agency_interest
                    )
                    self.assertLessEqual(case.amount_paid, claim + 0.005, "nothing is booked above the claim")
                    self.assertTrue(math.isfinite(case.amount_paid) and math.isfinite(case.agency_fees))
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all()
