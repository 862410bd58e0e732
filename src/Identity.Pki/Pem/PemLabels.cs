namespace Identity.Pki.Pem;

/// <summary>The PEM labels this library reads and writes.</summary>
public static class PemLabels
{
    public const string Certificate = "CERTIFICATE";
    public const string CertificateRequest = "CERTIFICATE REQUEST";
    public const string EcPrivateKey = "EC PRIVATE KEY";
    public const string RsaPrivateKey = "RSA PRIVATE KEY";
    public const string PrivateKey = "PRIVATE KEY";
    public const string EncryptedPrivateKey = "ENCRYPTED PRIVATE KEY";
}
