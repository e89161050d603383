"""Contract test: Intuit's own OAuth client and python-quickbooks, unmodified, against the sandbox.

``intuit-oauth`` (intuitlib) and ``python-quickbooks`` are what many QuickBooks
integrations are written with. Pointed at the sandbox over real HTTP, they must
not be able to tell it from Intuit: intuitlib finds every OAuth endpoint through
the discovery document, python-quickbooks only has its API base URL swapped
(``qb.api_url_v3`` on the instance: ``QuickBooks.api_url`` answers it for every
call when the auth client's environment is not ``"sandbox"``).

The only concession to a local server is ``OAUTHLIB_INSECURE_TRANSPORT``:
python-quickbooks sends API calls through requests-oauthlib's ``OAuth2Session``,
which refuses plain ``http://`` URLs without it.

Expected values come from the API itself (a customer's balance is checked
against its open invoices read through the client, the aging report against the
open invoices), so the tests hold whatever seeded company the generator makes.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from intuitlib.utils import validate_id_token
from oauthlib.oauth2 import WebApplicationClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import (
    AuthorizationException,
    ObjectNotFoundException,
    QuickbooksException,
    UnsupportedException,
    ValidationException,
)
from quickbooks.objects.account import Account
from quickbooks.objects.base import EmailAddress, LinkedTxn, Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment
from quickbooks.objects.budget import Budget
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.department import Department
from quickbooks.objects.deposit import Deposit
from quickbooks.objects.detailline import (
    DescriptionLineDetail,
    DescriptionOnlyLine,
    DiscountLine,
    DiscountLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.employee import Employee
from quickbooks.objects.estimate import Estimate
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.journalentry import JournalEntry
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.paymentmethod import PaymentMethod
from quickbooks.objects.preferences import Preferences
from quickbooks.objects.purchase import Purchase
from quickbooks.objects.purchaseorder import PurchaseOrder
from quickbooks.objects.refundreceipt import RefundReceipt
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.term import Term
from quickbooks.objects.trackingclass import Class
from quickbooks.objects.transfer import Transfer
from quickbooks.objects.vendor import Vendor
from quickbooks.objects.vendorcredit import VendorCredit

from sandbox import SandboxServer, build_sandbox

REDIRECT_URI = "https://app.example.com/quickbooks/callback"
PACIFIC = ZoneInfo("America/Los_Angeles")
CENT = Decimal("0.01")
_names = itertools.count(1)


# --- plumbing: a sandbox of our own, connections through the real clients ----------------------------------


@pytest.fixture(scope="module", autouse=True)
def insecure_transport() -> Iterator[None]:
    """requests-oauthlib refuses http:// unless told otherwise (the sandbox serves plain HTTP)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        yield


@pytest.fixture(scope="module")
def server(insecure_transport: None) -> Iterator[SandboxServer]:
    """Two seeded companies, private to this module: its tests write."""
    with SandboxServer(build_sandbox(seed=11, customers=12, realms=2, invoices_per_customer=3)) as running:
        running.sandbox.limits.requests_per_second = 0  # python-quickbooks does not retry a 429
        yield running


@pytest.fixture(scope="module")
def auth_client(server: SandboxServer) -> AuthClient:
    return connect(server)


@pytest.fixture(scope="module")
def qb(server: SandboxServer, auth_client: AuthClient) -> QuickBooks:
    return quickbooks(server, auth_client)


def discovery_url(server: SandboxServer) -> str:
    """Written like intuitlib's own DISCOVERY_URL values, trailing slash included."""
    return f"{server.base_url}/.well-known/openid_configuration/"


def auth_client_for(server: SandboxServer, **kwargs: Any) -> AuthClient:
    return AuthClient(
        server.sandbox.client_id,
        kwargs.pop("client_secret", server.sandbox.client_secret),
        REDIRECT_URI,
        environment=discovery_url(server),
        **kwargs,
    )


def authorize(client: AuthClient) -> dict[str, str]:
    """Follow intuitlib's authorization URL to the consent redirect; its query parameters."""
    answer = requests.get(client.get_authorization_url([Scopes.ACCOUNTING]), allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def connect(server: SandboxServer) -> AuthClient:
    """A new connection made the way an app makes one: consent, then the code exchange."""
    client = auth_client_for(server)
    redirect = authorize(client)
    client.get_bearer_token(redirect["code"], realm_id=redirect["realmId"])
    return client


def quickbooks(server: SandboxServer, client: AuthClient, company_id: str | None = None) -> QuickBooks:
    qb = QuickBooks(
        auth_client=client,
        refresh_token=client.refresh_token,
        company_id=company_id or client.realm_id,
        minorversion=75,
    )
    qb.api_url_v3 = f"{server.base_url}/v3"
    return qb


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_names)} {secrets.token_hex(3)}"


def new_customer(qb: QuickBooks, prefix: str = "Contract Customer") -> Customer:
    customer = Customer()
    customer.DisplayName = unique(prefix)
    customer.GivenName = "Ada"
    customer.FamilyName = "Lovelace"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "ada@example.com"
    return customer.save(qb=qb)


def sales_line(amount: str, description: str = "Consulting") -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = float(amount)
    line.Description = description
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = "1"
    line.SalesItemLineDetail.Qty = 1
    line.SalesItemLineDetail.UnitPrice = float(amount)
    return line


def new_invoice(qb: QuickBooks, customer: Customer, *amounts: str) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [sales_line(amount, f"Line {index}") for index, amount in enumerate(amounts, 1)]
    return invoice.save(qb=qb)


def new_payment(qb: QuickBooks, customer: Customer, total: str, applied: dict[str, str]) -> Payment:
    payment = Payment()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = float(total)
    for invoice_id, amount in applied.items():
        line = PaymentLine()
        line.Amount = float(amount)
        link = LinkedTxn()
        link.TxnId = invoice_id
        link.TxnType = "Invoice"
        line.LinkedTxn = [link]
        payment.Line.append(line)
    return payment.save(qb=qb)


def open_balance(qb: QuickBooks, customer_id: str) -> Decimal:
    """What a customer owes as the client reads it: open invoices less unapplied payments and credit memos."""
    invoices = Invoice.filter(CustomerRef=customer_id, max_results=1000, qb=qb)
    payments = Payment.filter(CustomerRef=customer_id, max_results=1000, qb=qb)
    memos = CreditMemo.filter(CustomerRef=customer_id, max_results=1000, qb=qb)
    return (
        sum((money(invoice.Balance) for invoice in invoices), Decimal(0))
        - sum((money(payment.UnappliedAmt) for payment in payments), Decimal(0))
        - sum((money(memo.RemainingCredit) for memo in memos), Decimal(0))
    )


def sandbox_now(server: SandboxServer) -> datetime:
    """The sandbox's now as QuickBooks' Pacific wall time, whole seconds, naive (as python-quickbooks sends it)."""
    return server.sandbox.clock.now().astimezone(PACIFIC).replace(tzinfo=None, microsecond=0)


# --- intuitlib: discovery, authorization code, refresh rotation, revoke ------------------------------------


def test_intuitlib_reads_every_endpoint_from_the_discovery_document(server: SandboxServer) -> None:
    client = auth_client_for(server)
    base = server.base_url
    assert client.auth_endpoint == f"{base}/connect/oauth2"
    assert client.token_endpoint == f"{base}/oauth2/v1/tokens/bearer"
    assert client.revoke_endpoint == f"{base}/oauth2/v1/tokens/revoke"
    assert client.issuer_uri == base
    assert client.user_info_url.startswith(base) and client.jwks_uri.startswith(base)


def test_authorization_code_flow_gives_tokens_for_the_consenting_realm(server: SandboxServer) -> None:
    client = auth_client_for(server)
    redirect = authorize(client)
    assert redirect["state"] == client.state_token, "the CSRF state comes back unchanged"
    assert redirect["realmId"] == server.sandbox.store.realm_ids[0]
    client.get_bearer_token(redirect["code"], realm_id=redirect["realmId"])
    assert client.realm_id == redirect["realmId"]
    assert client.access_token and client.refresh_token.startswith("RT1-")
    assert client.expires_in == 3600
    assert client.x_refresh_token_expires_in == 8_726_400
    with pytest.raises(AuthClientError) as reused:
        client.get_bearer_token(redirect["code"], realm_id=redirect["realmId"])
    assert reused.value.status_code == 400
    assert json.loads(reused.value.content) == {"error": "invalid_grant"}, "a code is good for one exchange"
    info = CompanyInfo.get(client.realm_id, qb=quickbooks(server, client))
    assert info.CompanyName == "Sandbox Company_US_1"


def test_code_exchange_checks_the_redirect_uri(server: SandboxServer) -> None:
    redirect = authorize(auth_client_for(server))
    other = AuthClient(
        server.sandbox.client_id,
        server.sandbox.client_secret,
        "https://elsewhere.example.com/callback",
        environment=discovery_url(server),
    )
    with pytest.raises(AuthClientError) as refused:
        other.get_bearer_token(redirect["code"], realm_id=redirect["realmId"])
    assert refused.value.status_code == 400
    assert json.loads(refused.value.content)["error"] == "invalid_grant"


def test_refresh_rotates_the_refresh_token_and_retires_the_old_one(server: SandboxServer) -> None:
    client = connect(server)
    first_refresh, first_access = client.refresh_token, client.access_token
    client.refresh()
    assert client.refresh_token != first_refresh
    assert client.access_token != first_access
    assert client.expires_in == 3600
    with pytest.raises(AuthClientError) as stale:
        client.refresh(refresh_token=first_refresh)
    assert stale.value.status_code == 400
    assert json.loads(stale.value.content) == {"error": "invalid_grant"}
    # python-quickbooks refreshes through the auth client when it has no access token yet.
    fresh = auth_client_for(server)
    qb = QuickBooks(auth_client=fresh, refresh_token=client.refresh_token, company_id=client.realm_id, minorversion=75)
    qb.api_url_v3 = f"{server.base_url}/v3"
    assert qb.refresh_token == fresh.refresh_token != client.refresh_token, "QuickBooks keeps the rotated token"
    assert CompanyInfo.get(client.realm_id, qb=qb).CompanyName == "Sandbox Company_US_1"


def test_revoke_ends_the_connection(server: SandboxServer) -> None:
    client = connect(server)
    qb = quickbooks(server, client)
    assert Customer.count(qb=qb) > 0
    refresh_token = client.refresh_token
    assert client.revoke() is True
    with pytest.raises(AuthClientError) as refused:
        client.refresh(refresh_token=refresh_token)
    assert refused.value.status_code == 400
    assert json.loads(refused.value.content) == {"error": "invalid_grant"}
    with pytest.raises(AuthorizationException) as denied:
        Customer.count(qb=qb)
    assert denied.value.error_code == 401, "the access token of a revoked connection is refused too"


def test_revoking_the_access_token_revokes_the_connection(server: SandboxServer) -> None:
    client = connect(server)
    assert client.revoke(token=client.access_token) is True
    with pytest.raises(AuthClientError) as refused:
        client.refresh()
    assert refused.value.status_code == 400
    assert json.loads(refused.value.content) == {"error": "invalid_grant"}


def test_openid_consent_gives_a_valid_id_token_and_userinfo(server: SandboxServer) -> None:
    """intuit-oauth's own check of the id_token (RS256 against the JWKS, issuer, audience, expiry) passes."""
    client = auth_client_for(server)
    url = client.get_authorization_url([Scopes.ACCOUNTING, Scopes.OPENID, Scopes.EMAIL, Scopes.PROFILE])
    redirect = parse_qs(urlsplit(requests.get(url, allow_redirects=False, timeout=10).headers["location"]).query)
    client.get_bearer_token(redirect["code"][0], realm_id=redirect["realmId"][0])
    assert client.id_token and validate_id_token(client.id_token, client.client_id, client.issuer_uri, client.jwks_uri)
    claims = json.loads(base64.urlsafe_b64decode(client.id_token.split(".")[1] + "=="))
    assert claims["realmid"] == redirect["realmId"][0] and claims["aud"] == [client.client_id]
    user = client.get_user_info().json()
    assert {"sub", "email", "emailVerified", "givenName", "familyName"} <= set(user)
    assert "phoneNumber" not in user, "only what the consent's scopes allow"
    accounting_only = connect(server)
    assert accounting_only.id_token is None, "no openid scope, no id_token"
    with pytest.raises(AuthClientError) as refused:
        accounting_only.get_user_info()
    assert refused.value.status_code == 403


def test_an_rfc7009_client_revokes_with_a_form_body(server: SandboxServer) -> None:
    """oauthlib prepares revocation as RFC 7009 says (form-encoded ``token`` and ``token_type_hint``)."""
    client = connect(server)
    revocation = requests.get(discovery_url(server), timeout=10).json()["revocation_endpoint"]
    url, headers, body = WebApplicationClient(client.client_id).prepare_token_revocation_request(
        revocation, client.refresh_token, token_type_hint="refresh_token"
    )
    answer = requests.post(url, data=body, headers=headers, auth=(client.client_id, client.client_secret), timeout=10)
    assert answer.status_code == 200, answer.text
    with pytest.raises(AuthClientError) as refused:
        client.refresh()
    assert json.loads(refused.value.content) == {"error": "invalid_grant"}


def test_wrong_client_secret_is_refused(server: SandboxServer) -> None:
    client = auth_client_for(server, client_secret="not-the-secret")
    redirect = authorize(client)
    with pytest.raises(AuthClientError) as refused:
        client.get_bearer_token(redirect["code"], realm_id=redirect["realmId"])
    assert refused.value.status_code == 401
    assert json.loads(refused.value.content) == {"error": "invalid_client"}


# --- python-quickbooks: reads and queries -------------------------------------------------------------------


def test_customer_all_count_and_active_filter(qb: QuickBooks) -> None:
    retired = Customer.get(new_customer(qb, "Retired Customer").Id, qb=qb)
    retired.Active = False
    assert retired.save(qb=qb).Active is False
    active = Customer.all(max_results=1000, qb=qb)
    assert len(active) == Customer.count(qb=qb) > 10
    assert all(customer.Active is True for customer in active), "name lists hide inactive rows by default"
    assert retired.Id not in {customer.Id for customer in active}
    assert len({customer.Id for customer in active}) == len(active)
    inactive = Customer.where("Active = false", qb=qb)
    assert retired.Id in {customer.Id for customer in inactive}
    assert all(customer.Active is False for customer in inactive)
    assert Customer.count("Active IN (true, false)", qb=qb) == len(active) + len(inactive)
    ordered = Customer.all(order_by="DisplayName", max_results=1000, qb=qb)
    names = [customer.DisplayName.lower() for customer in ordered]
    assert names == sorted(names)
    for customer in active[:5]:
        assert money(customer.Balance) == open_balance(qb, customer.Id), customer.DisplayName


def test_filter_escapes_apostrophes_the_way_quickbooks_reads_them(qb: QuickBooks) -> None:
    quoted = next(customer for customer in Customer.all(max_results=1000, qb=qb) if "'" in customer.DisplayName)
    (found,) = Customer.filter(DisplayName=quoted.DisplayName, qb=qb)
    assert found.Id == quoted.Id
    assert Customer.choose([quoted.DisplayName], field="DisplayName", qb=qb)[0].Id == quoted.Id


def test_invoice_count_get_and_filter_agree(qb: QuickBooks) -> None:
    total = Invoice.count(qb=qb)
    assert total > 20
    everything = Invoice.all(max_results=1000, qb=qb)
    assert len(everything) == total
    open_invoices = Invoice.where("Balance > '0'", max_results=1000, qb=qb)
    assert Invoice.count("Balance > '0'", qb=qb) == len(open_invoices) > 0
    assert all(money(invoice.Balance) > 0 for invoice in open_invoices)
    sample = open_invoices[0]
    invoice = Invoice.get(sample.Id, qb=qb)
    assert (invoice.Id, invoice.DocNumber, invoice.SyncToken) == (sample.Id, sample.DocNumber, sample.SyncToken)
    assert invoice.CustomerRef.value == sample.CustomerRef.value
    items = [line for line in invoice.Line if line.DetailType == "SalesItemLineDetail"]
    (subtotal,) = [line for line in invoice.Line if line.DetailType == "SubTotalLineDetail"]
    assert money(subtotal.Amount) == sum((money(line.Amount) for line in items), Decimal(0))
    tax = money(invoice.TxnTaxDetail.TotalTax) if invoice.TxnTaxDetail else Decimal(0)
    assert money(invoice.TotalAmt) == money(subtotal.Amount) + tax
    paid = money(invoice.TotalAmt) - money(invoice.Balance)
    assert paid >= 0
    if paid:
        assert any(link.TxnType == "Payment" for link in invoice.LinkedTxn), "what was paid is linked"
    by_customer = Invoice.filter(CustomerRef=invoice.CustomerRef.value, qb=qb)
    assert invoice.Id in {other.Id for other in by_customer}
    assert {other.CustomerRef.value for other in by_customer} == {invoice.CustomerRef.value}
    (by_number,) = Invoice.filter(DocNumber=invoice.DocNumber, qb=qb)
    assert by_number.Id == invoice.Id


def test_paging_with_start_position_and_max_results(qb: QuickBooks) -> None:
    ordered = [invoice.Id for invoice in Invoice.where(order_by="DocNumber", max_results=1000, qb=qb)]
    assert len(ordered) == Invoice.count(qb=qb)
    pages: list[list[str]] = []
    start = 1
    while True:
        page = Invoice.where(order_by="DocNumber", start_position=start, max_results=7, qb=qb)
        if not page:
            break
        pages.append([invoice.Id for invoice in page])
        start += 7
    assert [len(page) for page in pages[:-1]] == [7] * (len(pages) - 1)
    assert 1 <= len(pages[-1]) <= 7
    assert [invoice_id for page in pages for invoice_id in page] == ordered
    raw = qb.query("SELECT * FROM Invoice ORDER BY DocNumber STARTPOSITION 3 MAXRESULTS 4")["QueryResponse"]
    assert (raw["startPosition"], raw["maxResults"]) == (3, 4)
    assert [row["Id"] for row in raw["Invoice"]] == ordered[2:6]
    via_query = Invoice.query("SELECT * FROM Invoice ORDERBY DocNumber DESC MAXRESULTS 2", qb=qb)
    assert [invoice.Id for invoice in via_query] == ordered[::-1][:2]
    beyond = Invoice.where(start_position=len(ordered) + 1, max_results=5, qb=qb)
    assert beyond == [], "past the end QueryResponse carries no Invoice key"


def test_company_info(qb: QuickBooks, auth_client: AuthClient) -> None:
    info = CompanyInfo.get(auth_client.realm_id, qb=qb)
    assert info.CompanyName == "Sandbox Company_US_1"
    assert info.Country == "US"
    assert info.CompanyAddr.City == "San Pablo"


def test_preferences_give_each_realms_home_currency(server: SandboxServer, qb: QuickBooks) -> None:
    preferences = Preferences.get(qb=qb)
    assert preferences.CurrencyPrefs.HomeCurrency.value == "USD"
    assert preferences.CurrencyPrefs.MultiCurrencyEnabled is True
    canadian = server.credentials()["realms"][1]
    client = auth_client_for(server)
    client.refresh_token = canadian["refresh_token"]
    other = Preferences.get(qb=quickbooks(server, client, company_id=canadian["realm_id"]))
    assert other.CurrencyPrefs.HomeCurrency.value == "CAD"


def test_what_the_sandbox_does_not_serve_is_quickbooks_unsupported_operation(qb: QuickBooks) -> None:
    invoice = Invoice.all(max_results=1, qb=qb)[0]
    with pytest.raises(UnsupportedException) as refused:
        invoice.download_pdf(qb=qb)
    assert refused.value.error_code == 500


def test_connector_check_query_on_account_and_the_item_list(qb: QuickBooks) -> None:
    """Connectors check a connection by querying Account; generated lines bill items that exist."""
    accounts = Account.all(qb=qb)
    assert Account.count(qb=qb) == len(accounts) >= 3
    by_type = {account.AccountType: account for account in accounts}
    assert {"Accounts Receivable", "Income", "Other Current Asset"} <= set(by_type)
    assert by_type["Other Current Asset"].Name == "Undeposited Funds"
    (receivable,) = Account.filter(AccountType="Accounts Receivable", qb=qb)
    assert Account.get(receivable.Id, qb=qb).Name == receivable.Name
    items = {item.Id: item for item in Item.all(max_results=1000, qb=qb)}
    billed = {
        line.SalesItemLineDetail.ItemRef.value
        for i in Invoice.all(max_results=50, qb=qb)
        for line in i.Line
        if line.DetailType == "SalesItemLineDetail"
    }
    assert billed and billed <= set(items), "every ItemRef of a generated invoice names an item"
    assert all(item.IncomeAccountRef.value in {account.Id for account in accounts} for item in items.values())
    methods = {method.Id: method.Name for method in PaymentMethod.all(qb=qb)}
    assert methods["2"] == "Check"


@pytest.mark.parametrize("cls", [Estimate, SalesReceipt, RefundReceipt, Deposit, JournalEntry, Vendor, Employee, Bill])
def test_entities_the_company_has_none_of_answer_empty(cls: Any, qb: QuickBooks) -> None:
    assert cls.all(qb=qb) == []
    assert cls.count(qb=qb) == 0
    with pytest.raises(ObjectNotFoundException) as missing:
        cls.get("1", qb=qb)
    assert missing.value.error_code == 610


def test_change_data_capture_over_every_cdc_entity(server: SandboxServer, qb: QuickBooks) -> None:
    """A connector's deletes stream asks CDC for two dozen entities at once."""
    server.sandbox.clock.advance(2)
    since = sandbox_now(server)
    customer = new_customer(qb, "Every Entity CDC")
    classes = [Account, Bill, BillPayment, Budget, Class, CreditMemo, Customer, Department, Deposit, Employee]
    classes += [Estimate, Invoice, Item, JournalEntry, Payment, PaymentMethod, Purchase, PurchaseOrder]
    classes += [RefundReceipt, SalesReceipt, Term, Transfer, Vendor, VendorCredit]
    cdc = change_data_capture(classes, since, qb=qb)
    assert [row.Id for row in cdc.Customer] == [customer.Id]
    assert not hasattr(cdc, "Estimate")


# --- python-quickbooks: writes ------------------------------------------------------------------------------


def test_customer_create_sparse_update_and_full_update(qb: QuickBooks) -> None:
    created = new_customer(qb)
    assert created.Id and created.SyncToken == "0"
    assert created.FullyQualifiedName == created.DisplayName
    assert money(created.Balance) == 0 and created.Active is True
    read = Customer.get(created.Id, qb=qb)
    assert (read.GivenName, read.FamilyName) == ("Ada", "Lovelace")
    assert read.PrimaryEmailAddr.Address == "ada@example.com"

    sparse = {"Id": created.Id, "SyncToken": created.SyncToken, "sparse": True, "CompanyName": "Analytical Engines"}
    answer = qb.update_object("Customer", json.dumps(sparse))
    assert answer["Customer"]["SyncToken"] == "1"
    read = Customer.get(created.Id, qb=qb)
    assert read.CompanyName == "Analytical Engines"
    assert read.GivenName == "Ada" and read.PrimaryEmailAddr.Address == "ada@example.com", "sparse keeps the rest"

    read.PrimaryEmailAddr = None  # left out of a full update: cleared
    read.Notes = "Prefers email"
    saved = read.save(qb=qb)
    assert saved.SyncToken == "2"
    assert saved.Notes == "Prefers email"
    again = Customer.get(created.Id, qb=qb)
    assert again.PrimaryEmailAddr is None
    assert again.CompanyName == "Analytical Engines"

    renamed = Customer.get(created.Id, qb=qb)
    renamed.sparse = True
    renamed.DisplayName = unique("Renamed Customer")
    assert renamed.save(qb=qb).FullyQualifiedName == renamed.DisplayName
    (found,) = Customer.filter(DisplayName=renamed.DisplayName, qb=qb)
    assert found.Id == created.Id


def test_request_id_makes_a_create_idempotent(qb: QuickBooks) -> None:
    customer = Customer()
    customer.DisplayName = unique("Idempotent Customer")
    request_id = secrets.token_hex(8)
    first = customer.save(qb=qb, request_id=request_id)
    retry = Customer()
    retry.DisplayName = customer.DisplayName
    second = retry.save(qb=qb, request_id=request_id)
    assert second.Id == first.Id
    assert len(Customer.filter(DisplayName=customer.DisplayName, qb=qb)) == 1


def test_invoice_create_full_and_sparse_update_recompute_balances(qb: QuickBooks) -> None:
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, "100.00", "50.25")
    assert invoice.Id and invoice.SyncToken == "0" and invoice.DocNumber
    assert money(invoice.TotalAmt) == money(invoice.Balance) == Decimal("150.25")
    assert [line.LineNum for line in invoice.Line if line.DetailType == "SalesItemLineDetail"] == [1, 2]
    assert [money(line.Amount) for line in invoice.Line if line.DetailType == "SubTotalLineDetail"] == [
        Decimal("150.25")
    ]
    assert date.fromisoformat(invoice.DueDate) >= date.fromisoformat(invoice.TxnDate)
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("150.25")

    full = Invoice.get(invoice.Id, qb=qb)
    full.Line = [line for line in full.Line if line.DetailType == "SalesItemLineDetail"][:1]
    full.Line[0].Amount = 80.0
    full.Line[0].SalesItemLineDetail.UnitPrice = 80.0
    updated = full.save(qb=qb)
    assert updated.SyncToken == "1"
    assert money(updated.TotalAmt) == money(updated.Balance) == Decimal("80.00")
    assert len([line for line in updated.Line if line.DetailType == "SalesItemLineDetail"]) == 1
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("80.00")

    sparse = {"Id": invoice.Id, "SyncToken": "1", "sparse": True, "PrivateNote": "Call before the 15th"}
    noted = Invoice.from_json(qb.update_object("Invoice", json.dumps(sparse))["Invoice"])
    assert noted.SyncToken == "2" and noted.PrivateNote == "Call before the 15th"
    assert money(noted.TotalAmt) == Decimal("80.00"), "a sparse update keeps the lines"
    assert noted.DocNumber == invoice.DocNumber


def test_payment_applies_to_an_invoice_and_its_delete_reopens_it(qb: QuickBooks) -> None:
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, "200.00")
    payment = new_payment(qb, customer, "120.00", {invoice.Id: "75.00"})
    assert money(payment.TotalAmt) == Decimal("120.00")
    assert money(payment.UnappliedAmt) == Decimal("45.00")
    paid = Invoice.get(invoice.Id, qb=qb)
    assert money(paid.Balance) == Decimal("125.00")
    assert [(link.TxnId, link.TxnType) for link in paid.LinkedTxn] == [(payment.Id, "Payment")]
    # 125.00 still open on the invoice, less the 45.00 the payment holds unapplied
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("80.00")

    answer = Payment.get(payment.Id, qb=qb).delete(qb=qb)
    assert answer["Payment"] == {"status": "Deleted", "domain": "QBO", "Id": payment.Id}
    with pytest.raises(ObjectNotFoundException) as gone:
        Payment.get(payment.Id, qb=qb)
    assert gone.value.error_code == 610
    reopened = Invoice.get(invoice.Id, qb=qb)
    assert money(reopened.Balance) == Decimal("200.00")
    assert reopened.LinkedTxn == []
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("200.00")


def test_invoice_delete(qb: QuickBooks) -> None:
    customer = new_customer(qb)
    keep = new_invoice(qb, customer, "30.00")
    doomed = new_invoice(qb, customer, "70.00")
    count = Invoice.count(qb=qb)
    answer = doomed.delete(qb=qb)
    assert answer["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": doomed.Id}
    with pytest.raises(ObjectNotFoundException) as gone:
        Invoice.get(doomed.Id, qb=qb)
    assert gone.value.error_code == 610
    assert Invoice.count(qb=qb) == count - 1
    assert [invoice.Id for invoice in Invoice.filter(CustomerRef=customer.Id, qb=qb)] == [keep.Id]
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("30.00")


def test_void_invoice_and_void_payment(qb: QuickBooks) -> None:
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, "90.00", "10.00")
    other = new_invoice(qb, customer, "40.00")
    payment = new_payment(qb, customer, "60.00", {invoice.Id: "25.00", other.Id: "15.00"})
    paid = Invoice.get(invoice.Id, qb=qb)

    voided = Invoice.from_json(paid.void(qb=qb)["Invoice"])
    assert voided.Id == invoice.Id and voided.SyncToken == str(int(paid.SyncToken) + 1)
    assert money(voided.TotalAmt) == money(voided.Balance) == 0
    assert all(money(line.Amount) == 0 for line in voided.Line)
    assert voided.PrivateNote.startswith("Voided")
    assert voided.LinkedTxn == []
    assert Invoice.get(invoice.Id, qb=qb).DocNumber == invoice.DocNumber, "a voided invoice still exists"
    freed = Payment.get(payment.Id, qb=qb)
    assert money(freed.UnappliedAmt) == Decimal("45.00"), "what paid the voided invoice is unapplied now"
    # 25.00 still open on the other invoice, less the 45.00 unapplied: the customer is in credit
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("-20.00")

    voided_payment = Payment.from_json(freed.void(qb=qb)["Payment"])
    assert money(voided_payment.TotalAmt) == 0 and voided_payment.Line == []
    assert voided_payment.PrivateNote.startswith("Voided")
    assert money(Invoice.get(other.Id, qb=qb).Balance) == Decimal("40.00")
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("40.00")


def test_full_update_of_a_foreign_currency_invoice(sandbox_server: SandboxServer) -> None:
    """Read, change a note, save: the commonest python-quickbooks update, on a CAD/EUR invoice.

    The library sends back every field it read, ``ExchangeRate`` as a JSON float among them.
    On a server of its own, so that a write that breaks the company cannot spill into other tests.
    """
    qb = quickbooks(sandbox_server, connect(sandbox_server))
    foreign = next(i for i in Invoice.all(max_results=1000, qb=qb) if i.CurrencyRef.value != "USD")
    full = Invoice.get(foreign.Id, qb=qb)
    rate = Decimal(str(full.ExchangeRate))
    assert rate != 1
    full.PrivateNote = "Full update from python-quickbooks"
    saved = full.save(qb=qb)
    assert saved.SyncToken == str(int(full.SyncToken) + 1)
    assert saved.PrivateNote == "Full update from python-quickbooks"
    assert (money(saved.TotalAmt), money(saved.Balance)) == (money(full.TotalAmt), money(full.Balance))
    assert Decimal(str(saved.ExchangeRate)) == rate
    assert money(saved.HomeBalance) == (money(saved.Balance) * rate).quantize(CENT)
    assert money(saved.HomeTotalAmt) == money(full.HomeTotalAmt) != 0


def test_stale_sync_token_raises_5010(qb: QuickBooks) -> None:
    customer = new_customer(qb)
    invoice = new_invoice(qb, customer, "10.00")
    mine, theirs = Invoice.get(invoice.Id, qb=qb), Invoice.get(invoice.Id, qb=qb)
    theirs.PrivateNote = "theirs"
    assert theirs.save(qb=qb).SyncToken == "1"
    mine.PrivateNote = "mine"
    with pytest.raises(QuickbooksException) as stale:
        mine.save(qb=qb)
    assert stale.value.error_code == 5010
    assert stale.value.message == "Stale Object Error"
    assert Invoice.get(invoice.Id, qb=qb).PrivateNote == "theirs", "the stale write changed nothing"
    with pytest.raises(QuickbooksException) as stale_delete:
        mine.delete(qb=qb)
    assert stale_delete.value.error_code == 5010


# --- change data capture, batch, reports --------------------------------------------------------------------


def test_change_data_capture(server: SandboxServer, qb: QuickBooks) -> None:
    server.sandbox.clock.advance(2)  # what earlier tests changed is now at least a second old
    since = sandbox_now(server)
    customer = new_customer(qb, "CDC Customer")
    kept = new_invoice(qb, customer, "12.00")
    doomed = new_invoice(qb, customer, "13.00")
    doomed.delete(qb=qb)
    cdc = change_data_capture([Customer, Invoice, Payment], since, qb=qb)
    assert [row.Id for row in cdc.Customer] == [customer.Id]
    invoices = list(cdc.Invoice)
    assert [row.Id for row in invoices if getattr(row, "status", "") != "Deleted"] == [kept.Id]
    (stub,) = [row for row in invoices if getattr(row, "status", "") == "Deleted"]
    assert stub.Id == doomed.Id
    assert invoices[-1] is stub, "deleted objects come after the changed ones"
    assert not hasattr(cdc, "Payment"), "an entity without changes gets no group"
    cutoff = since.replace(tzinfo=PACIFIC)
    for row in [*cdc.Customer, *invoices]:
        meta = row.MetaData  # a MetaData object on Invoice, a plain dict on Customer (no class_dict entry)
        updated = meta["LastUpdatedTime"] if isinstance(meta, dict) else meta.LastUpdatedTime
        assert datetime.fromisoformat(updated) >= cutoff


def test_batch_create_update_and_delete(qb: QuickBooks) -> None:
    customers = []
    for _ in range(3):
        customer = Customer()
        customer.DisplayName = unique("Batch Customer")
        customers.append(customer)
    created = batch_create(customers, qb=qb)
    assert created.faults == []
    assert [c.DisplayName for c in created.successes] == [c.DisplayName for c in customers]
    assert all(c.Id and c.SyncToken == "0" for c in created.successes)

    for customer in created.successes:
        customer.CompanyName = "Batch Co"
    stale = Customer.get(created.successes[0].Id, qb=qb)
    updated = batch_update(created.successes, qb=qb)
    assert updated.faults == []
    assert {(c.SyncToken, c.CompanyName) for c in updated.successes} == {("1", "Batch Co")}
    assert Customer.get(created.successes[1].Id, qb=qb).CompanyName == "Batch Co"

    stale.CompanyName = "Too late"
    conflicting = batch_update([stale], qb=qb)
    assert conflicting.successes == []
    (fault,) = conflicting.faults
    assert fault.Error[0].code == "5010"
    assert fault.original_object is stale

    invoices = [new_invoice(qb, updated.successes[0], "5.00"), new_invoice(qb, updated.successes[0], "6.00")]
    deleted = batch_delete(invoices, qb=qb)
    assert deleted.faults == []
    assert sorted((i.Id, i.status) for i in deleted.successes) == sorted((i.Id, "Deleted") for i in invoices)
    for invoice in invoices:
        with pytest.raises(ObjectNotFoundException):
            Invoice.get(invoice.Id, qb=qb)


def _report_total(report: dict[str, Any]) -> Decimal:
    (grand,) = [row for row in report["Rows"]["Row"] if row.get("group") == "GrandTotal"]
    return money(grand["Summary"]["ColData"][-1]["value"])


def test_aged_receivables_report_matches_the_open_invoices_less_credits(server: SandboxServer, qb: QuickBooks) -> None:
    today = server.sandbox.store.company(server.sandbox.store.realm_ids[0]).today(server.sandbox.clock.now())
    in_credit = new_customer(qb, "Credit Customer")
    new_payment(qb, in_credit, "150.00", {new_invoice(qb, in_credit, "100.00").Id: "100.00"})
    memo = CreditMemo()
    memo.CustomerRef = in_credit.to_ref()
    memo.Line = [sales_line("30.00", "Returned goods")]
    memo.save(qb=qb)
    report = qb.get_report("AgedReceivables", qs={"report_date": today.isoformat(), "aging_method": "Current"})
    assert report["Header"]["ReportName"] == "AgedReceivables"
    assert [column["ColTitle"] for column in report["Columns"]["Column"]][1:] == [
        "Current",
        "1 - 30",
        "31 - 60",
        "61 - 90",
        "91 and over",
        "Total",
    ]
    open_invoices = [
        invoice
        for invoice in Invoice.where("Balance > '0'", max_results=1000, qb=qb)
        if date.fromisoformat(invoice.TxnDate) <= today
    ]
    unapplied = [p for p in Payment.all(max_results=1000, qb=qb) if money(p.UnappliedAmt) > 0]
    credits = [m for m in CreditMemo.all(max_results=1000, qb=qb) if money(m.RemainingCredit) > 0]
    assert unapplied and credits

    def home(amount: Any, txn: Any) -> Decimal:
        return (money(amount) * Decimal(str(txn.ExchangeRate or 1))).quantize(CENT)

    expected = (
        sum((home(invoice.Balance, invoice) for invoice in open_invoices), Decimal(0))
        - sum((home(payment.UnappliedAmt, payment) for payment in unapplied), Decimal(0))
        - sum((home(memo.RemainingCredit, memo) for memo in credits), Decimal(0))
    )
    assert _report_total(report) == expected
    by_customer = {
        row["ColData"][0]["id"]: money(row["ColData"][-1]["value"]) for row in report["Rows"]["Row"] if "ColData" in row
    }
    customer = Customer.all(max_results=1000, qb=qb)
    usd = next(c for c in customer if c.CurrencyRef.value == "USD" and money(c.Balance) > 0)
    assert by_customer[usd.Id] == open_balance(qb, usd.Id) == money(usd.Balance)

    detail = qb.get_report("AgedReceivableDetail", qs={"report_date": today.isoformat(), "aging_method": "Current"})
    rows = [row for section in detail["Rows"]["Row"] for row in section["Rows"]["Row"]]
    listed = sorted((row["ColData"][1]["value"], row["ColData"][1]["id"]) for row in rows)
    assert listed == sorted(
        [("Invoice", invoice.Id) for invoice in open_invoices]
        + [("Payment", payment.Id) for payment in unapplied]
        + [("Credit Memo", memo.Id) for memo in credits]
    )

    narrowed = qb.get_report("AgedReceivables", qs={"customer": usd.Id, "aging_method": "Current"})
    assert _report_total(narrowed) == open_balance(qb, usd.Id)
    assert by_customer[in_credit.Id] == money(Customer.get(in_credit.Id, qb=qb).Balance) == Decimal("-80.00")


# --- errors as the library maps them ------------------------------------------------------------------------


def test_unknown_id_is_object_not_found(qb: QuickBooks) -> None:
    with pytest.raises(ObjectNotFoundException) as missing:
        Invoice.get("987654321", qb=qb)
    assert missing.value.error_code == 610
    assert missing.value.message == "Object Not Found"


def test_validation_faults(qb: QuickBooks) -> None:
    customer = new_customer(qb)
    without_lines = Invoice()
    without_lines.CustomerRef = customer.to_ref()
    with pytest.raises(ValidationException) as missing:
        without_lines.save(qb=qb)
    assert missing.value.error_code == 2020
    unknown_customer = Invoice()
    unknown_customer.CustomerRef = Ref()
    unknown_customer.CustomerRef.value = "99999"
    unknown_customer.Line = [sales_line("1.00")]
    with pytest.raises(ValidationException) as invalid:
        unknown_customer.save(qb=qb)
    assert invalid.value.error_code == 2500
    duplicate = Customer()
    duplicate.DisplayName = customer.DisplayName.upper()
    with pytest.raises(QuickbooksException) as clash:
        duplicate.save(qb=qb)
    assert clash.value.error_code == 6240
    with pytest.raises(QuickbooksException) as bad_query:
        qb.query("SELECT * FROM Invoice WHERE PrivateNote = 'x'")
    assert bad_query.value.error_code == 4001


def test_an_invoice_with_a_discount_and_a_description_line(qb: QuickBooks) -> None:
    customer = new_customer(qb, "Discount Customer")
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    note = DescriptionOnlyLine()
    note.Description = "Delivered on site"
    note.DescriptionLineDetail = DescriptionLineDetail()
    discount = DiscountLine()
    discount.DiscountLineDetail = DiscountLineDetail()
    discount.DiscountLineDetail.PercentBased = True
    discount.DiscountLineDetail.DiscountPercent = 20
    invoice.Line = [sales_line("120.00"), note, sales_line("80.00", "Follow-up"), discount]
    saved = invoice.save(qb=qb)
    assert money(saved.TotalAmt) == money(saved.Balance) == Decimal("160.00")
    assert [line.DetailType for line in saved.Line][-2:] == ["SubTotalLineDetail", "DiscountLineDetail"]
    assert money(Customer.get(customer.Id, qb=qb).Balance) == Decimal("160.00")


def test_a_stale_reference_is_refused_with_2500(qb: QuickBooks) -> None:
    customer = new_customer(qb, "Stale Reference")
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    line = sales_line("10.00")
    line.SalesItemLineDetail.ItemRef.value = "424242"  # an item deleted since the client cached its list
    invoice.Line = [line]
    with pytest.raises(ValidationException) as refused:
        invoice.save(qb=qb)
    assert refused.value.error_code == 2500
    assert Invoice.filter(CustomerRef=customer.Id, qb=qb) == [], "nothing written"


def test_invalid_access_token_is_an_authorization_exception(server: SandboxServer) -> None:
    client = auth_client_for(server, access_token="not-a-real-token", realm_id=server.sandbox.store.realm_ids[0])
    qb = quickbooks(server, client)
    with pytest.raises(AuthorizationException) as denied:
        Customer.all(qb=qb)
    assert denied.value.error_code == 401
    assert "3200" in denied.value.detail


def test_token_for_another_company_is_refused(server: SandboxServer, auth_client: AuthClient) -> None:
    other_realm = server.sandbox.store.realm_ids[1]
    assert other_realm != auth_client.realm_id
    with pytest.raises(QuickbooksException) as refused:
        Customer.count(qb=quickbooks(server, auth_client, company_id=other_realm))
    assert refused.value.error_code == 3100


def test_expired_access_token_then_refresh(sandbox_server: SandboxServer) -> None:
    """On a server of its own: the clock moves past the access token's hour."""
    client = connect(sandbox_server)
    qb = quickbooks(sandbox_server, client)
    count = Invoice.count(qb=qb)
    sandbox_server.sandbox.clock.advance(3601)
    with pytest.raises(AuthorizationException) as expired:
        Invoice.count(qb=qb)
    assert expired.value.error_code == 401
    assert "Token expired" in expired.value.detail
    client.refresh()
    assert Invoice.count(qb=quickbooks(sandbox_server, client)) == count
