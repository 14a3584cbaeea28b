"""Property-based fuzz of the OpenAPI schema (schemathesis) against the live test server.

Every operation is called with generated valid and invalid inputs, as an anonymous client
and with a customer's token. Passing means: no 5xx, every status code, content type, header
and body as the schema documents. Bounded to about a minute (``--max-time``); ``make fuzz``
(``python -m tests.test_schema_fuzz``) runs the same checks outside the suite, against
``runserver`` on a database of its own, for as many cases as asked: the long run recorded in
docs/SECURITY.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Server errors and every kind of disagreement between the schema and what the API answers.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance,response_headers_conformance"
)


def seed_catalog() -> str:
    """A few products, a customer with a cart and an order; returns the customer's API token."""
    from rest_framework.authtoken.models import Token

    from shop.models import Order
    from tests.factories import CartFactory, CartItemFactory, CategoryFactory, ProductFactory, UserFactory

    tops = CategoryFactory(slug="tops", slot="top")
    products = [ProductFactory(category=tops, price=Decimal("19.00") + n) for n in range(5)]
    customer = UserFactory(username="fuzzer")
    CartItemFactory(cart=CartFactory(user=customer), product=products[0], quantity=1)
    Order.objects.create(
        number="FUZZ1", user=customer, total=Decimal("19.00"), currency="EUR",
        shipping_name="F", shipping_address="1 St", payment_provider="pay-on-delivery",
    )  # fmt: skip
    return Token.objects.create(user=customer).key


def schemathesis_command(base_url: str, *, token: str | None, max_examples: int, max_time: int) -> list[str]:
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{base_url}/api/schema/",
        "--checks",
        CHECKS,
        "--max-examples",
        str(max_examples),
        "--max-time",
        str(max_time),
        "--seed",
        "1",
        "--no-color",
        "--workers",
        "1",
        "--phases",
        "examples,coverage,fuzzing",
        "--suppress-health-check",
        "all",
    ]
    if token:
        command += ["--header", f"Authorization: Token {token}"]
    return command


@pytest.mark.fuzz
@pytest.mark.django_db(transaction=True)
@pytest.mark.timeout(2 * int(os.environ.get("SCHEMA_FUZZ_SECONDS", "20")) + 240)
def test_the_api_answers_every_fuzzed_request_as_its_schema_says(live_server):
    token = seed_catalog()
    budget = int(os.environ.get("SCHEMA_FUZZ_SECONDS", "20"))  # per run; two runs
    examples = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "100"))  # per operation and phase
    for auth in (token, None):
        run = subprocess.run(
            schemathesis_command(live_server.url, token=auth, max_examples=examples, max_time=budget),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=budget + 120,
        )
        summary = re.search(r"(\d+) generated[^\n]*", run.stdout)
        print(f"schemathesis ({'token' if auth else 'anonymous'}): {summary.group(0) if summary else '?'}")
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def main() -> int:
    """The long run: ``python -m tests.test_schema_fuzz [EXAMPLES] [SECONDS]`` (see ``make fuzz``)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("EMBEDDED_POSTGRES_DB", "fuzz")
    django.setup()
    from django.core.management import call_command

    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 1800
    call_command("migrate", verbosity=0, interactive=False)
    call_command("flush", verbosity=0, interactive=False)
    token = seed_catalog()
    port = os.environ.get("FUZZ_PORT", "8765")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT, env=os.environ
    )
    total, failed = 0, False
    try:
        for auth in (token, None):
            command = schemathesis_command(
                f"http://127.0.0.1:{port}", token=auth, max_examples=examples, max_time=seconds
            )
            run = subprocess.run([*command, "--wait-for-schema", "60"], cwd=ROOT, capture_output=True, text=True)
            print(run.stdout[-3000:])
            found = re.search(r"(\d+) generated", run.stdout)
            total += int(found.group(1)) if found else 0
            failed |= run.returncode != 0
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"schemathesis: {total} cases in all, {'FAILURES' if failed else 'no failures'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
