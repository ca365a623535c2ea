"""Indonesian first: the browser's language does not switch the interface; the switch does."""


def test_indonesian_even_when_the_browser_prefers_english(client, db):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "id"
    assert "Masuk" in response.content.decode()


def test_the_language_switch_chooses_english(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/accounts/login/")
    assert response["Content-Language"] == "en"
    assert "Sign in" in response.content.decode() or "Log in" in response.content.decode()


def test_an_unknown_language_cookie_falls_back_to_indonesian(client, db):
    client.cookies["django_language"] = "xx"
    response = client.get("/accounts/login/")
    assert response["Content-Language"] == "id"

