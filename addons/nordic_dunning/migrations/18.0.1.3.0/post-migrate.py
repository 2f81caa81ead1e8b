"""18.0.1.3.0: a proposed line is done once its run was confirmed (``confirm_date``).

Runs confirmed before 18.0.1.1.0 recorded no confirmation; their last write is when they were confirmed.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE nordic_dunning_run r
           SET confirm_date = COALESCE(r.write_date, r.create_date),
               confirm_user_id = COALESCE(r.write_uid, r.create_uid)
         WHERE r.confirm_date IS NULL
           AND (r.state = 'done'
                OR EXISTS (SELECT 1 FROM nordic_dunning_event e
                             JOIN nordic_dunning_run_line l ON l.id = e.line_id
                            WHERE l.run_id = r.id))
        """
    )
