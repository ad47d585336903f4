// The tests drive real Linux peers (openssl, rngtest, Unix sockets, /dev/hwrng).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
