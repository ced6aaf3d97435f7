from tests.github_api.fixtures import github  # noqa: F401
