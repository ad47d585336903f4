// Apps.TrustStore: trust-on-first-use pins kept in LiteDB, and the sans-IO
// decision (TofuPolicy) that the connection layer asks on every handshake.
// See TrustStore/design.md.
[assembly: System.CLSCompliant(false)]
