// A campaign's page: mermaid draws each <pre class="mermaid"> (a case type's lifecycle, the
// text GET /campaigns/{id}/diagram writes) once the page has loaded. 'strict': the labels come
// from campaign files, so no HTML in them runs and no click binds a script.
/* global mermaid */
mermaid.initialize({ startOnLoad: true, securityLevel: 'strict' });
