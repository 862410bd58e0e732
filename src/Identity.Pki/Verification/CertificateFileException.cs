namespace Identity.Pki.Verification;

/// <summary>
/// A certificate, CSR or trust-bundle file could not be read or parsed. The message names the file and
/// the precise problem and is meant to be shown to a user as is.
/// </summary>
public sealed class CertificateFileException : Exception
{
    /// <summary>Creates the exception with a user-facing message.</summary>
    public CertificateFileException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a user-facing message and the underlying cause.</summary>
    public CertificateFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public CertificateFileException()
        : base("invalid certificate file")
    {
    }
}
