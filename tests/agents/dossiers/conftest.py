"""Shared by the dossier tests: a counter (partner, point, staff) and a client of the city simulator."""

import pytest

from agents.city.client import CityClient
from tests.factories import create_counter


@pytest.fixture(scope="module")
def counter():
    return create_counter()


@pytest.fixture
def city(city_simulator):
    city_simulator.reset_knobs()
    client = CityClient()
    yield client
    client.close()
    city_simulator.reset_knobs()
