"""The registry wing: markets, zones, stalls, vendors, payout accounts, users, access, audit,
spreadsheets and printed boards. It never imports the money wing."""
