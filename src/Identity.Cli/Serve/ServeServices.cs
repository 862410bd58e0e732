using Identity.Kubernetes;
using Microsoft.Extensions.DependencyInjection;

namespace Identity.Cli.Serve;

/// <summary>Wires the Kubernetes implementations of the server's seams from the serve flags.</summary>
internal static class ServeServices
{
    public static void Register(IServiceCollection services, ServeSettings settings)
    {
        var kubeconfig = settings.Kube.Kubeconfig.Length == 0 ? null : settings.Kube.Kubeconfig;
        var jwks = settings.Tokens.Mode == "jwks";
        services.AddIdentityTokenValidation(o =>
        {
            o.Mode = jwks ? TokenValidationMode.Jwks : TokenValidationMode.Kubernetes;
            o.Kubeconfig = kubeconfig;
            o.Qps = settings.Kube.Qps;
            o.Burst = settings.Kube.Burst;
            o.CacheTtl = settings.Tokens.CacheTtl;
            o.Jwks = jwks ? settings.Tokens.Jwks : null;
            o.TokenIssuer = jwks ? settings.Tokens.TokenIssuer : null;
        });

        // Events go to the API server, so only where there is one: with JWKS validation the server may run with
        // no cluster at all (local use, the demo), and then the logging sink the server registers stays.
        if (!jwks)
        {
            services.AddKubernetesEvents(o =>
            {
                o.Namespace = settings.Server.ControllerNamespace;
                o.Kubeconfig = kubeconfig;
            });
        }
    }
}
