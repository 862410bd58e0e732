using System.Collections.Concurrent;
using System.Net;
using Identity.Server.Issuance;
using Microsoft.AspNetCore.Http;

namespace Identity.Server.Admin;

/// <summary>Remembers which local ports belong to the admin listener (filled by a Kestrel connection middleware).</summary>
internal sealed class AdminPorts
{
    private readonly ConcurrentDictionary<int, byte> _ports = new();

    public void Add(EndPoint? endPoint)
    {
        if (endPoint is IPEndPoint ip)
        {
            _ports.TryAdd(ip.Port, 0);
        }
    }

    public bool IsAdmin(HttpContext context) => _ports.ContainsKey(context.Connection.LocalPort);
}

/// <summary>Linkerd's admin surface: <c>/ping</c>, <c>/ready</c>, plus <c>/live</c>; <c>/metrics</c> is the Prometheus exporter.</summary>
internal static class AdminEndpoints
{
    public static Task Handle(HttpContext context, IssuerStore store)
    {
        var response = context.Response;
        response.ContentType = "text/plain; charset=utf-8";
        switch (context.Request.Path.Value)
        {
            case "/ping":
                return response.WriteAsync("pong\n");
            case "/live":
                return response.WriteAsync("ok\n");
            case "/ready":
                if (store.ServesValidIssuer)
                {
                    return response.WriteAsync("ok\n");
                }

                response.StatusCode = StatusCodes.Status500InternalServerError;
                return response.WriteAsync("not ready\n");
            default:
                response.StatusCode = StatusCodes.Status404NotFound;
                return response.WriteAsync("not found\n");
        }
    }
}
