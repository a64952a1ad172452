"""The mixed message set of the load benchmarks (benchmarks/load.py, locust_mixed.py, first_turn.py)."""

# every one of these is a filter_data turn for the offline parser (invoices, sales, transactions)
MESSAGES = [
    "Filter invoices for last month, vendor=IndiSky, status=failed",
    "pending invoices",
    "show canceled invoices from vayu travels",
    "unpaid invoices",
    "invoices over 50k",
    "processed invoices this quarter",
    "overdue invoices",
    "failed invoices this month",
    "queued bills for Metro Cabs",
    "sales in the north",
    "show the completed invoices from Zenith",
    "paid invoices last month",
    "approved invoices from Nimbus this year",
    "southern region sales last month",
    "past 7 days transactions",
    "unsuccessful invoices from apex office supplies",
]
