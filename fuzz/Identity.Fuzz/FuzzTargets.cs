using Identity.Fuzz.Targets;

namespace Identity.Fuzz;

/// <summary>Every fuzz target; fuzz/corpus has a folder of seeds for each.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new CsrTarget(),
        new CertifyTarget(),
        new CertifyJwksTarget(),
        new PemTarget(),
        new CertificateTarget(),
        new KeyTarget(),
        new TrustBundleTarget(),
        new IssuerTarget(),
        new JwtTarget(),
        new JwksTarget(),
        new GoDurationTarget(),
        new Rfc3339Target(),
    ];

    public static FuzzTarget? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
