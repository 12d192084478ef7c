"""Every CSV export opens right in Excel: UTF-8 with a byte-order mark, Vietnamese intact."""

import codecs
import csv
import io

import pytest

from agents.staff.models import Role
from tests.factories import create_partner, create_person, create_point


@pytest.fixture(scope="module")
def network():
    partner = create_partner(name="Bưu điện Hà Nội (xuất CSV)")
    create_point(partner, name="Điểm Đống Đa")
    return {
        "/partner/dashboard.csv": create_person((Role.partner_manager, partner, None)),
        "/center/dashboard.csv": create_person((Role.center_admin, None, None)),
    }


@pytest.mark.parametrize("url", ["/partner/dashboard.csv", "/center/dashboard.csv"])
def test_a_csv_export_starts_with_the_utf8_byte_order_mark(portal, network, url):
    client = portal()
    client.sign_in(network[url].email)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["partner", "point"]  # the mark is not part of the first heading
    assert ["Bưu điện Hà Nội (xuất CSV)", "Điểm Đống Đa"] in [row[:2] for row in rows]
