def post_init_hook(env):
    """Give every Swedish and Norwegian company its legal profile's policy, if it has none."""
    policies = env["nordic.dunning.policy"]
    for company in env["res.company"].search([]):
        country = company.account_fiscal_country_id.code or company.country_id.code
        if country in ("SE", "NO") and not policies.search_count([("company_id", "=", company.id)]):
            policies._create_from_profile(company, country)
