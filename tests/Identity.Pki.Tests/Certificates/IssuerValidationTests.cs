using System.Security.Cryptography.X509Certificates;
using Identity.Pki.Certificates;
using Identity.Pki.Keys;

namespace Identity.Pki.Tests.Certificates;

public sealed class IssuerValidationTests
{
    private static readonly DateTimeOffset StepTime = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Step_root_and_issuer_may_issue_while_valid()
    {
        var root = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("root.crt"));
        using var rootKey = PrivateKeyPem.Read(File.ReadAllBytes(TestPaths.StepFile("root.key")), "root.key", null);
        IssuerValidation.EnsureCanIssue(root, rootKey, StepProfile.IntermediateCa, StepTime, "root.crt", "root.key");
        var issuer = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("issuer.crt"));
        using var issuerKey = PrivateKeyPem.Read(File.ReadAllBytes(TestPaths.StepFile("issuer.key")), "issuer.key", null);
        IssuerValidation.EnsureCanIssue(issuer, issuerKey, StepProfile.Leaf, StepTime, "issuer.crt", "issuer.key");

        Assert.Equal("issuer.crt has pathlen 0 and cannot issue an intermediate CA",
            Assert.Throws<PkiException>(() => IssuerValidation.EnsureCanIssue(issuer, issuerKey, StepProfile.IntermediateCa, StepTime, "issuer.crt", "issuer.key")).Message);
        Assert.StartsWith("issuer.crt has expired",
            Assert.Throws<PkiException>(() => IssuerValidation.EnsureCanIssue(issuer, issuerKey, StepProfile.Leaf, StepTime.AddYears(2), "issuer.crt", "issuer.key")).Message, StringComparison.Ordinal);
        Assert.StartsWith("issuer.crt is not valid yet",
            Assert.Throws<PkiException>(() => IssuerValidation.EnsureCanIssue(issuer, issuerKey, StepProfile.Leaf, StepTime.AddDays(-2), "issuer.crt", "issuer.key")).Message, StringComparison.Ordinal);
        Assert.Equal("the key in root.key does not match the certificate in issuer.crt",
            Assert.Throws<PkiException>(() => IssuerValidation.EnsureCanIssue(issuer, rootKey, StepProfile.Leaf, StepTime, "issuer.crt", "root.key")).Message);
    }

    [Fact]
    public void A_leaf_cannot_issue()
    {
        var leaf = X509CertificateLoader.LoadCertificateFromFile(TestPaths.StepFile("leaf.crt"));
        using var key = PrivateKeyPem.Read(File.ReadAllBytes(TestPaths.StepFile("leaf.key")), "leaf.key", null);
        Assert.Equal("leaf.crt is not a CA certificate (it has no basicConstraints CA:TRUE)",
            Assert.Throws<PkiException>(() => IssuerValidation.EnsureCanIssue(leaf, key, StepProfile.Leaf, StepTime, "leaf.crt", "leaf.key")).Message);
    }
}
