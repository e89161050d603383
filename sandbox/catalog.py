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


#: Realm 1 is a US company, realm 2 Canadian, realm 3 British, realm 4 Australian, then round again.
PROFILES = (
    Profile("US", "US", "USD", "CAD", "America/Los_Angeles", ("123 Sierra Way", "San Pablo", "CA", "87999")),
    Profile("CA", "CA", "CAD", "USD", "America/Vancouver", ("400 Granville St", "Vancouver", "BC", "V6C 1T2")),
    Profile("UK", "GB", "GBP", "EUR", "Europe/London", ("10 Broad St", "London", "", "EC2N 1HQ")),
    Profile("AU", "AU", "AUD", "USD", "Australia/Sydney", ("1 George St", "Sydney", "NSW", "2000")),
)
