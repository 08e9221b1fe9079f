"""The screens: server-rendered pages in Chinese for the people who run a campaign (offices,
inspectors, acceptance teams, enterprise principals), over the same rules as the API.

A thin adapter like `api/`: a page reads its person's session (web.session), asks the REST API
in-process as that person (web.client: the same routes, scopes, validation and audit as an
integrator meets) and renders a Jinja2 template (web.render). Nothing here decides a rule.
"""
