using System.Text;
using Identity.Kubernetes;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Fuzz.Targets;

/// <summary>
/// The whole Certify handler, in process, with the test validator. Input: <c>identity \n token \n CSR-DER</c>.
/// Contract: <see cref="FuzzServer.CheckAnswer"/>.
/// </summary>
internal sealed class CertifyTarget : FuzzTarget
{
    private static readonly Lazy<FuzzServer> Server = new(() => FuzzServer.Start(s => s.AddSingleton<Server.Tokens.ITokenValidator, FuzzTokenValidator>()));

    public override string Name => "certify";

    public override string Description => "Certify handler (identity, token, CSR) with the test token validator";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var (identity, token, csr) = Fields(input);
        var answer = Server.Value.Certify(identity, token, csr);
        Server.Value.CheckAnswer(answer, identity, FuzzTokenValidator.AuthenticatedIdentity(token), csr);
    }

    internal static (string Identity, byte[] Token, byte[] Csr) Fields(ReadOnlySpan<byte> input)
    {
        var fields = Contract.Split(input, (byte)'\n', 3);
        return (Encoding.UTF8.GetString(fields[0]), fields[1], fields[2]);
    }
}

/// <summary>
/// The whole Certify handler with the production JWKS validator (review cache off, so each input is judged on
/// its own), against a fixed signing key. Input: <c>identity \n JWT \n CSR-DER</c>.
/// </summary>
internal sealed class CertifyJwksTarget : FuzzTarget
{
    private static readonly Lazy<FuzzServer> Server = new(() => FuzzServer.Start(s => FuzzJwks.AddValidator(s, FuzzJwks.WriteJwks())));

    public override string Name => "certify-jwks";

    public override string Description => "Certify handler (identity, JWT, CSR) with the JWKS token validator";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var (identity, token, csr) = CertifyTarget.Fields(input);
        var answer = Server.Value.Certify(identity, token, csr);
        // Only a token this key signed can authenticate anyone: its own claims say whom.
        Server.Value.CheckAnswer(answer, identity, answer.Response is null ? null : FuzzJwks.SignedIdentity(token), csr);
    }
}
