namespace Identity.Pki.Certificates;

/// <summary>step's certificate profiles (<c>--profile</c>).</summary>
public enum StepProfile
{
    /// <summary>End-entity certificate signed by a CA (step's default profile).</summary>
    Leaf,

    /// <summary>CA certificate signed by a root; pathlen 0.</summary>
    IntermediateCa,

    /// <summary>Self-signed CA certificate; pathlen 1.</summary>
    RootCa,

    /// <summary>Self-signed end-entity certificate (leaf extensions, no AKI).</summary>
    SelfSigned,
}

/// <summary>Names and defaults of <see cref="StepProfile"/>.</summary>
public static class StepProfiles
{
    /// <summary>The profile's name as given to <c>--profile</c>.</summary>
    public static string Name(this StepProfile profile) => profile switch
    {
        StepProfile.Leaf => "leaf",
        StepProfile.IntermediateCa => "intermediate-ca",
        StepProfile.RootCa => "root-ca",
        StepProfile.SelfSigned => "self-signed",
        _ => throw new ArgumentOutOfRangeException(nameof(profile)),
    };

    /// <summary>Parses a <c>--profile</c> value; null when unknown.</summary>
    public static StepProfile? Parse(string name) => name switch
    {
        "leaf" => StepProfile.Leaf,
        "intermediate-ca" => StepProfile.IntermediateCa,
        "root-ca" => StepProfile.RootCa,
        "self-signed" => StepProfile.SelfSigned,
        _ => null,
    };

    /// <summary>step's default validity: 87600h (10 × 365 days) for CAs, 24h otherwise.</summary>
    public static TimeSpan DefaultValidity(this StepProfile profile) =>
        profile is StepProfile.RootCa or StepProfile.IntermediateCa ? TimeSpan.FromHours(87600) : TimeSpan.FromHours(24);

    /// <summary>Whether the profile signs with its own key (no <c>--ca</c>).</summary>
    public static bool IsSelfSigned(this StepProfile profile) => profile is StepProfile.RootCa or StepProfile.SelfSigned;

    /// <summary>Whether the profile makes a CA certificate.</summary>
    public static bool IsCa(this StepProfile profile) => profile is StepProfile.RootCa or StepProfile.IntermediateCa;
}
