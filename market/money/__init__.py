"""The money wing: the ledger, wallets, payments, days and notifications. It uses the registry,
never the other way round."""
