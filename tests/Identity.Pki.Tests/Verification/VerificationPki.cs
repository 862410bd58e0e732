namespace Identity.Pki.Tests.Verification;

/// <summary>The verification tests' fixed clock and their test PKI on it, so tests never depend on today.</summary>
internal static class VerificationPki
{
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly TestPki Ca = new(Start);
}
