namespace Apps.Tls.Verification;

/// <summary>Why one certificate or one link of a path was refused: a reason and a sentence for people.</summary>
internal sealed record Rejection(VerificationFailure Failure, string Message);

/// <summary>Thrown only inside certificate parsing when a certificate cannot be used at all; never escapes the verifier.</summary>
internal sealed class CertificateFormatException(VerificationFailure failure, string message) : Exception(message)
{
    public VerificationFailure Failure { get; } = failure;
}
