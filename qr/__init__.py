"""VietQR payment codes as a pure library: the bank BIN directory, the EMVCo/NAPAS payload codec,
and (later) QR matrices, images and printable boards. Knows nothing about stalls or databases."""
