"""18.0.2.1.0: the reminder e-mail is written per notice (one per customer and level of a run).

The shipped template ``mail_template_dunning_event`` changes model, from the event to the notice. Its record
is ``noupdate``, so it is marked updatable for this update (the data file marks it ``noupdate`` again), and its
translations of the old body and subject, which name fields of the event, are dropped: the update loads the
notice's from the .po files. Levels keep their own templates; one still written for events is not used (the
default template is), as the level form now offers templates of notices only.
"""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE ir_model_data SET noupdate = FALSE
         WHERE module = 'nordic_dunning' AND name = 'mail_template_dunning_event'
        RETURNING res_id
        """
    )
    template_ids = [row[0] for row in cr.fetchall()]
    if template_ids:
        cr.execute(
            """
            UPDATE mail_template
               SET body_html = jsonb_build_object('en_US', body_html->'en_US'),
                   subject = jsonb_build_object('en_US', subject->'en_US')
             WHERE id = ANY(%s)
            """,
            [template_ids],
        )
