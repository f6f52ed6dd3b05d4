import pytest


@pytest.fixture
def admin_client(client, django_user_model):
    """A client logged in as a superuser, who is ``client.user``."""
    user = django_user_model.objects.create_superuser("admin", "admin@example.com", "password")
    client.force_login(user)
    client.user = user
    return client
