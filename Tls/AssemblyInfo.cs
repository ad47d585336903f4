// Apps.Tls: the TLS engine, certificate verification and the Fortuna
// generator that every key is drawn from. See Tls/design.md.
[assembly: System.CLSCompliant(false)]
