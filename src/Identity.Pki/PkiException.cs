namespace Identity.Pki;

/// <summary>
/// A bad input or a failed PKI operation. The message is meant for the user as is (the CLI prints it
/// verbatim), so it names the file or value at fault and never contains key material.
/// </summary>
public sealed class PkiException : Exception
{
    public PkiException()
    {
    }

    public PkiException(string message)
        : base(message)
    {
    }

    public PkiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
