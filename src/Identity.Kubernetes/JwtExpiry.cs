using Microsoft.IdentityModel.JsonWebTokens;

namespace Identity.Kubernetes;

/// <summary>Reads a JWT's <c>exp</c> without verifying anything.</summary>
/// <remarks>
/// The value is attacker-controlled, so it may only ever <em>shorten</em> how long a result the API server
/// vouched for is reused; it never makes a token valid.
/// </remarks>
internal static class JwtExpiry
{
    public static DateTimeOffset? TryRead(string token)
    {
        try
        {
            var jwt = new JsonWebToken(token);
            return jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out var exp)
                ? DateTimeOffset.FromUnixTimeSeconds(exp)
                : null;
        }
        catch (ArgumentException)
        {
            // Malformed JWTs (and the SecurityTokenMalformedException family, which derives from ArgumentException)
            // simply have no known expiry.
            return null;
        }
    }
}
