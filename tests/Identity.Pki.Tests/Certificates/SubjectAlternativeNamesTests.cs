using Identity.Pki.Certificates;

namespace Identity.Pki.Tests.Certificates;

public sealed class SubjectAlternativeNamesTests
{
    [Fact]
    public void Classification_follows_go_split_sans()
    {
        var sans = SubjectAlternativeNames.Classify(
            ["host:8080", "a.example.com", "", "10.0.0.1", "::ffff:1.2.3.4", "u@x", "spiffe://td/ns/a", "127.1", "fe80::1%eth0", "*.Example.com", "2001:db8::1"]);
        Assert.Equal(["a.example.com", "127.1", "*.Example.com"], sans.DnsNames);
        Assert.Equal(["u@x"], sans.EmailAddresses);
        Assert.Equal(["10.0.0.1", "1.2.3.4", "2001:db8::1"], sans.IPAddresses.Select(i => i.ToString()));
        Assert.Equal(4, sans.IPAddresses[1].GetAddressBytes().Length);
        // Go's url.Parse reads "host:8080" and "fe80::1%eth0" as opaque URIs with schemes "host" and "fe80".
        Assert.Equal(["host:8080", "spiffe://td/ns/a", "fe80::1%eth0"], sans.Uris);
        var decoded = SubjectAlternativeNames.Decode(sans.Encode());
        Assert.Equal(sans.All(), decoded.All());
    }

    [Fact]
    public void Non_ascii_names_are_refused() =>
        Assert.Contains("IA5String", Assert.Throws<PkiException>(() => SubjectAlternativeNames.Classify(["bücher.example"])).Message, StringComparison.Ordinal);
}
