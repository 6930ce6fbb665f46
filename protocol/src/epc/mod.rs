//! GS1 EPC Tag Data Standard decoding: headers, SGTIN/SSCC/SGLN/GRAI/GIAI/GID/GDTI/GSRN, URIs and the SKU rule.
