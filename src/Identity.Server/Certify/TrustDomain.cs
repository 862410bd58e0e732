namespace Identity.Server.Certify;

/// <summary>Maps authenticated usernames to mesh identities: <c>system:TYPE:NS:NAME</c> → <c>NAME.NS.TYPE.identity.CONTROL-NS.TRUST-DOMAIN</c>.</summary>
public sealed class TrustDomain
{
    public TrustDomain(string controllerNamespace, string domain)
    {
        if (!Dns1123.IsLabel(controllerNamespace))
        {
            throw new ArgumentException($"invalid label '{controllerNamespace}'", nameof(controllerNamespace));
        }

        if (!Dns1123.IsSubdomain(domain))
        {
            throw new ArgumentException($"invalid domain '{domain}'", nameof(domain));
        }

        ControllerNamespace = controllerNamespace;
        Domain = domain;
    }

    public string ControllerNamespace { get; }

    public string Domain { get; }

    /// <summary>The identity of workload <paramref name="name"/> of kind <paramref name="type"/> in namespace <paramref name="ns"/>.</summary>
    public string Identity(string type, string name, string ns) =>
        $"{name}.{ns}.{type}.identity.{ControllerNamespace}.{Domain}";

    /// <summary>
    /// Parses a Kubernetes username. On failure returns false and Linkerd's exact message
    /// (<c>Username must be in form system:TYPE:NS:SA: …</c> or <c>Not a label: …</c>), both InvalidArgument.
    /// </summary>
    public bool TryMapUsername(string username, out string identity, out string error)
    {
        identity = "";
        var parts = username.Split(':');
        if (parts.Length != 4 || parts[0] != "system")
        {
            error = $"Username must be in form system:TYPE:NS:SA: {username}";
            return false;
        }

        for (var i = 1; i < 4; i++)
        {
            if (!Dns1123.IsLabel(parts[i]))
            {
                error = $"Not a label: {parts[i]}";
                return false;
            }
        }

        error = "";
        identity = Identity(parts[1], parts[3], parts[2]);
        return true;
    }
}
