"""User-controlled text is escaped in pages (Jinja autoescape)."""

from edge_proxy import main

PROBE = '<script>alert("x")</script>'


def test_templates_autoescape(app):
    assert app.jinja_env.autoescape("page.html") is True


def test_text_shown_in_pages_is_escaped(client, monkeypatch):
    monkeypatch.setattr(main, "DESCRIPTION", PROBE)
    html = client.get("/").get_data(as_text=True)
    assert PROBE not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
