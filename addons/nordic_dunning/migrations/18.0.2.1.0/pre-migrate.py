"""18.0.2.1.0: the reminder e-mail is written per notice (one per customer and level of a run).

The shipped template ``mail_template_dunning_event`` changes model, from the event to the notice. Its
translations of the old body and subject name fields of the event and would fail to render on a notice:
they are dropped here, and this update loads the notice's from the .po files (post-migrate reloads the
template itself, which its ``noupdate`` data file would otherwise leave as it was). Levels keep their own
templates; one still written for events is not used (the default template is), as the level form now offers
templates of notices only.
"""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE mail_template t
           SET body_html = jsonb_build_object('en_US', t.body_html->'en_US'),
               subject = jsonb_build_object('en_US', t.subject->'en_US')
          FROM ir_model_data d
         WHERE d.module = 'nordic_dunning' AND d.name = 'mail_template_dunning_event'
           AND d.model = 'mail.template' AND d.res_id = t.id
        """
    )
