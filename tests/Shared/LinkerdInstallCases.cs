namespace Identity.Testing;

/// <summary>
/// Issuer credentials with the shapes of Linkerd's install-validation fixtures (linkerd2 cli/cmd/testdata, used by
/// install_test.go's "Validates the issuer certs upon install"), made here rather than copied: the server's
/// loader and <c>identity check</c> must both reach Linkerd's verdict on each.
/// </summary>
internal static class LinkerdInstallCases
{
    public const string Valid = "valid";
    public const string ValidWithRsaAnchor = "valid-with-rsa-anchor";
    public const string Expired = "expired";
    public const string NotValidYet = "not-valid-yet";
    public const string WrongAlgorithm = "wrong-algo";

    public static readonly string[] All = [Valid, ValidWithRsaAnchor, Expired, NotValidYet, WrongAlgorithm];

    /// <summary>The anchors and the issuer of one case; the issuer is Linkerd's default name.</summary>
    public static (TestCredential Anchor, TestCredential Issuer) Create(string name, TestPki pki)
    {
        var now = pki.Now;
        switch (name)
        {
            case Valid:
            {
                // Linkerd's `valid` set: the anchor and the issuer share the subject, and the issuer has no AKI, so
                // only a search by name and signature (Go's) finds its signer.
                var anchor = pki.Root("identity.linkerd.cluster.local");
                return (anchor, pki.Intermediate(anchor, authorityKeyIdentifier: false));
            }

            case ValidWithRsaAnchor:
            {
                var anchor = pki.Root(key: TestKeyType.Rsa2048);
                return (anchor, pki.Intermediate(anchor));
            }

            case Expired:
            {
                var anchor = pki.Root();
                return (anchor, pki.Intermediate(anchor, notBefore: now.AddDays(-30), notAfter: now.AddDays(-5)));
            }

            case NotValidYet:
            {
                var anchor = pki.Root();
                return (anchor, pki.Intermediate(anchor, notBefore: now.AddDays(5), notAfter: now.AddDays(365)));
            }

            case WrongAlgorithm:
            {
                var anchor = pki.Root();
                return (anchor, pki.Intermediate(anchor, key: TestKeyType.EcP521));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "not one of Linkerd's install cases");
        }
    }
}
