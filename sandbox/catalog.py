"""Fixed reference data for generated companies: Craig's sample names, items, terms."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: The 29 customers of Intuit's US sample company (reference §11), in Id order.
SAMPLE_CUSTOMERS = (
    "Amy's Bird Sanctuary",
    "Bill's Windsurf Shop",
    "Cool Cars",
    "Diego Rodriguez",
    "Dukes Basketball Camp",
    "Dylan Sollfrank",
    "Freeman Sporting Goods",
    "Geeta Kalapatapu",
    "Gevelber Photography",
    "Jeff's Jalopies",
    "John Melton",
    "Kate Whelan",
    "Pye's Cakes",
    "Kookies by Kathy",
    "Mark Cho",
    "Paulsen Medical Supplies",
    "Rago Travel Agency",
    "Red Rock Diner",
    "Rondonuwu Fruit and Vegi",
    "Shara Barnett",
    "Sonnenschein Family Store",
    "Sushi by Katsuyuki",
    "Travis Waldron",
    "Video Games by Dan",
    "Wedding Planning by Whitney",
    "Weiskopf Consulting",
    "Harbor Lane Florist",
    "Old Mill Bakery",
    "Jardin Paris SARL",
)

FIRST_WORDS = (
    "Alder",
    "Bayview",
    "Cedar",
    "Copper",
    "Delta",
    "Evergreen",
    "Foothill",
    "Granite",
    "Harbor",
    "Iron",
    "Juniper",
    "Kestrel",
    "Lakeside",
    "Maple",
    "Northgate",
    "Oak",
    "Pacific",
    "Quarry",
    "Redwood",
    "Summit",
    "Tidewater",
    "Upland",
    "Valley",
    "Willow",
    "Yarrow",
    "Zephyr",
)
SECOND_WORDS = (
    "Bakery",
    "Builders",
    "Cafe",
    "Dental",
    "Electric",
    "Fitness",
    "Gardens",
    "Hardware",
    "Interiors",
    "Kitchens",
    "Landscaping",
    "Motors",
    "Nursery",
    "Optics",
    "Plumbing",
    "Roofing",
    "Studio",
    "Tailors",
    "Veterinary",
    "Winery",
)
#: Contact people: every customer has one (``GivenName``, ``FamilyName``), what a reminder's salutation uses.
GIVEN_NAMES = ("Amy", "Bill", "Dana", "Diego", "Eleni", "Farah", "Grace", "Hiro", "Imani", "Jonas", "Kate", "Liam")
FAMILY_NAMES = (
    "Alvarez",
    "Barnett",
    "Cho",
    "Dubois",
    "Eriksen",
    "Kalapatapu",
    "Melton",
    "Nakamura",
    "Okafor",
    "Whelan",
)
JOB_NAMES = ("0969 Ocean View Road", "55 Twin Lane", "Shop remodel", "Spring install", "Phase 2")
CITIES = (
    ("Bayshore", "CA", "94326"),
    ("Menlo Park", "CA", "94304"),
    ("Palo Alto", "CA", "94303"),
    ("San Mateo", "CA", "94401"),
    ("Sausalito", "CA", "94965"),
    ("Tucson", "AZ", "85719"),
    ("Middlefield", "CA", "94482"),
    ("Half Moon Bay", "CA", "94213"),
)
STREETS = ("Finch St.", "Willow Rd", "Harbor Lane", "Main Street", "Ocean View Road", "Twin Lane")

#: (Id, Name, unit price) of the sample company's items.
ITEMS = (
    ("4", "Design", Decimal("75")),
    ("5", "Rock Fountain", Decimal("275")),
    ("6", "Gardening", Decimal("25")),
    ("7", "Installation", Decimal("50")),
    ("9", "Maintenance & Repair", Decimal("60")),
    ("10", "Pest Control", Decimal("35")),
    ("11", "Pump", Decimal("15")),
    ("15", "Soil", Decimal("10")),
    ("16", "Sprinkler Heads", Decimal("2")),
    ("17", "Sprinkler Pipes", Decimal("4")),
    ("18", "Trimming", Decimal("35")),
    ("2", "Hours", Decimal("22.50")),
)

#: Craig's "Services" item (Id 1): on the item list, though generated lines bill the items above.
SERVICES_ITEM = ("1", "Services", Decimal("0"))
#: Items that are goods (their income goes to "Sales of Product Income"); the rest are services.
PRODUCT_ITEMS = frozenset({"5", "11", "15", "16", "17"})

#: (Id, Name, AccountType, AccountSubType, Classification) of the sample company's accounts that
#: receivables touch: income, Undeposited Funds (where payments go by default), A/R, the bank,
#: and where discounts go.
ACCOUNTS = (
    ("1", "Services", "Income", "ServiceFeeIncome", "Revenue"),
    ("4", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
    ("35", "Checking", "Bank", "Checking", "Asset"),
    ("79", "Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
    ("84", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
    ("86", "Discounts given", "Income", "DiscountsRefundsGiven", "Revenue"),
)
SERVICE_INCOME_ACCOUNT, PRODUCT_INCOME_ACCOUNT, UNDEPOSITED_FUNDS, DISCOUNTS_GIVEN = "1", "79", "4", "86"

#: (Id, Name, Type) of the sample company's payment methods.
PAYMENT_METHODS = (
    ("1", "Cash", "NON_CREDIT_CARD"),
    ("2", "Check", "NON_CREDIT_CARD"),
    ("3", "Visa", "CREDIT_CARD"),
    ("4", "MasterCard", "CREDIT_CARD"),
    ("5", "Discover", "CREDIT_CARD"),
    ("6", "American Express", "CREDIT_CARD"),
)

#: Every entity of the Accounting API v3 (Intuit's API reference, "All entities"; python-quickbooks'
#: objects): queries, reads by Id, CDC and batch know them all. Those the sandbox holds no objects of
#: answer as a company with none does: an empty page, no changes, 610 for an Id.
ACCOUNTING_ENTITIES = (
    "Account",
    "Attachable",
    "Bill",
    "BillPayment",
    "Budget",
    "Class",
    "CompanyCurrency",
    "CompanyInfo",
    "CreditCardPayment",
    "CreditMemo",
    "Customer",
    "CustomerType",
    "Department",
    "Deposit",
    "Employee",
    "Estimate",
    "ExchangeRate",
    "Invoice",
    "Item",
    "JournalCode",
    "JournalEntry",
    "Payment",
    "PaymentMethod",
    "Preferences",
    "Purchase",
    "PurchaseOrder",
    "RecurringTransaction",
    "RefundReceipt",
    "ReimburseCharge",
    "SalesReceipt",
    "TaxAgency",
    "TaxClassification",
    "TaxCode",
    "TaxPayment",
    "TaxRate",
    "TaxService",
    "Term",
    "TimeActivity",
    "Transfer",
    "Vendor",
    "VendorCredit",
)
#: What CDC answers for (Intuit's change-data-capture page lists these; it names JournalCode,
#: TaxAgency, TimeActivity, TaxCode and TaxRate as not supported, reference §3).
CDC_ENTITIES = (
    "Account",
    "Bill",
    "BillPayment",
    "Budget",
    "Class",
    "CreditCardPayment",
    "CreditMemo",
    "Customer",
    "Department",
    "Deposit",
    "Employee",
    "Estimate",
    "Invoice",
    "Item",
    "JournalEntry",
    "Payment",
    "PaymentMethod",
    "Purchase",
    "PurchaseOrder",
    "RefundReceipt",
    "SalesReceipt",
    "Term",
    "Transfer",
    "Vendor",
    "VendorCredit",
)

#: (Id, Name, DueDays) of a new US company's terms.
TERMS = (("1", "Due on receipt", 0), ("2", "Net 15", 15), ("3", "Net 30", 30), ("4", "Net 60", 60), ("5", "Net 10", 10))
#: ``Preferences.SalesFormsPrefs.DefaultTerms``: Net 30, for customers that have no terms of their own.
DEFAULT_TERM_ID = "3"

CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
}
#: US-dollar value of one unit of each currency (the sandbox's fixed market).
USD_VALUE = {
    "USD": Decimal(1),
    "CAD": Decimal("0.73"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "AUD": Decimal("0.66"),
}


def exchange_rate(currency: str, home_currency: str) -> Decimal | None:
    """Home-currency value of one unit of ``currency`` (QuickBooks' ExchangeRate); None at home."""
    if currency == home_currency:
        return None
    return (USD_VALUE[currency] / USD_VALUE[home_currency]).quantize(Decimal("0.000001")).normalize()


@dataclass(frozen=True)
class Profile:
    """Where a sample company is and what it counts in: its CompanyInfo and currency settings."""

    code: str
    country: str
    home_currency: str
    second_currency: str
    time_zone: str
    address: tuple[str, str, str, str]
    #: Intuit's 2025 change: the company's addresses give ``Country`` as ISO 3166 alpha-3 (``USA``)
    #: on some companies; older data holds alpha-2 codes or names (reference §13.2).
    alpha3_country: bool = False

    @property
    def address_country(self) -> str:
        """``Country`` as the company's addresses write it."""
        return ALPHA3[self.country] if self.alpha3_country else self.country


#: ISO 3166 alpha-2 -> alpha-3 for the sample companies' countries.
ALPHA3 = {"US": "USA", "CA": "CAN", "GB": "GBR", "AU": "AUS", "FR": "FRA"}


#: Realm 1 is a US company, realm 2 Canadian, realm 3 British, realm 4 Australian, then round again.
PROFILES = (
    Profile("US", "US", "USD", "CAD", "America/Los_Angeles", ("123 Sierra Way", "San Pablo", "CA", "87999")),
    Profile("CA", "CA", "CAD", "USD", "America/Vancouver", ("400 Granville St", "Vancouver", "BC", "V6C 1T2")),
    Profile("UK", "GB", "GBP", "EUR", "Europe/London", ("10 Broad St", "London", "", "EC2N 1HQ")),
    Profile("AU", "AU", "AUD", "USD", "Australia/Sydney", ("1 George St", "Sydney", "NSW", "2000")),
)
