#!/usr/bin/env python3
"""Writes htgate's own Apache conformance scenarios and cases (scenarios/,
cases/) in the layout of ../shared/conformance. Goldens are recorded from a
real Apache with record.sh; compare htgate with run.sh. Python 3 stdlib only.

    python3 build.py            # rewrite scenarios/ and cases/ (goldens untouched)
"""
import base64
import json
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
USERS = [("alice", "Wonderland-1"), ("bob", "b0b pass w/ space"), ("carol", "c:olon:pw"),
         ("mallory", "mallory-pw"), ("josé", "pässwörd-ü"), ("emptypw", "")]
PW = dict(USERS)


def basic(user, pw=None, raw=None):
    if raw is None:
        raw = "%s:%s" % (user, PW[user] if pw is None else pw)
    return "Basic " + base64.b64encode(raw.encode("utf-8")).decode()


def auth(user, pw=None):
    return [["Authorization", basic(user, pw)]]


BASIC = """AuthType Basic
AuthName "%s"
AuthBasicProvider file
AuthUserFile @AUTHDIR@/.htpasswd
"""


def page(marker):
    return "<!doctype html><title>%s</title><p>MARKER:%s</p>\n" % (marker, marker)


SCENARIOS = {}


def scenario(name, description, files, cases):
    SCENARIOS[name] = (description, files, cases)


def case(cid, path, method="GET", headers=None, note=None, **kw):
    c = {"id": cid, "method": method, "path": path, "headers": headers or []}
    if note:
        c["note"] = note
    if method in ("POST", "PUT", "PATCH") and "body" not in kw:
        c["body"] = "x=1"
    c.update(kw)
    return c


def both(cid, path, method="GET", user="alice", **kw):
    """The same request without and with credentials."""
    return [case(cid + "-noauth", path, method, **kw),
            case(cid + "-" + user, path, method, headers=auth(user), **kw)]


# ---------------------------------------------------------------- paths
files = {
    "index.html": page("index"),
    "public/index.html": page("public-index"),
    "public/page.html": page("public-page"),
    "public/café.html": page("public-cafe"),
    "secret/.htaccess": BASIC % "Paths" + "Require valid-user\n",
    "secret/index.html": page("secret-index"),
    "secret/page.html": page("secret-page"),
    "secret/sub/page.html": page("secret-sub-page"),
    "secret/.htpasswd": "nobody:x\n",
    "accept/.htaccess": "AcceptPathInfo On\n",
    "accept/page.html": page("accept-page"),
}
cases = []
cases += both("missing-file", "/secret/missing.html")
cases += both("missing-dir", "/secret/nodir/page.html")
cases += both("dir-noslash", "/secret")
cases += both("dir-noslash-query", "/secret?x=1")
cases += both("dir-slash", "/secret/")
cases += both("dir-slash-query", "/secret/?q=1")
cases += both("upper-dir", "/SECRET/page.html")
cases += both("upper-file", "/secret/PAGE.html")
cases += both("enc-unreserved", "/%73ecret/page.html")
cases += both("enc-file", "/secret/%70age%2ehtml")
cases += both("enc-slash", "/secret%2fpage.html")
cases += both("dotdot-encslash", "/secret/..%2fpage.html")
cases += both("above-root", "/..")
cases += both("above-root-file", "/../secret/page.html")
cases += both("above-root-enc", "/%2e%2e/secret/page.html")
cases += both("dotdot-into", "/public/../secret/page.html")
cases += both("dotdot-enc-into", "/public/%2e%2e/secret/page.html")
cases += both("dot", "/secret/./page.html")
cases += both("dot-enc", "/secret/%2e/page.html")
cases += both("double-slash", "//secret//page.html")
cases += both("overlong-root", "/%c0%ae%c0%ae/secret/page.html")
cases += both("overlong-public", "/public/%c0%afpage.html")
cases += both("backslash-root", "/secret\\page.html")
cases += both("backslash-public", "/public\\page.html")
cases += both("nul-enc", "/secret/page.html%00")
cases += both("nul-enc-public", "/public/page.html%00.txt")
cases += both("ctl-enc-public", "/public/%01page.html")
cases += both("double-enc-public", "/public/%252e%252e/index.html")
cases += both("bad-escape", "/public/%zzpage.html")
cases += both("param-dir", "/secret;x/page.html")
cases += both("param-file", "/secret/page.html;x")
cases += both("param-dotdot", "/public/..;/secret/page.html")
cases += both("pathinfo", "/secret/page.html/extra")
cases += both("query", "/secret/page.html?x=1&y=%2f")
cases += both("fragment", "/secret/page.html#frag")
cases += both("no-slash", "secret/page.html")
cases += both("absolute-form", "http://{authority}/secret/page.html")
cases += both("absolute-other-host", "http://other.invalid/secret/page.html")
cases += both("sub", "/secret/sub/page.html")
cases += both("htaccess", "/secret/.htaccess")
cases += both("htpasswd", "/secret/.htpasswd")
cases += both("ht-upper", "/secret/.HTACCESS")
cases += both("ht-missing", "/secret/.htnothing")
cases += [case("root-htaccess", "/.htaccess"),
          case("public", "/public/page.html"),
          case("public-dir", "/public/"),
          case("public-noslash", "/public"),
          case("public-noslash-query", "/public?a=b"),
          case("public-head", "/public/page.html", "HEAD"),
          case("public-utf8-enc", "/public/caf%C3%A9.html"),
          case("public-utf8-raw", "/public/café.html"),
          case("public-latin1-enc", "/public/caf%E9.html"),
          case("http10-nohost", "/public/page.html", version="HTTP/1.0", no_host=True),
          case("space-before-colon", "/public/page.html", headers=[["X-Test ", "1"]]),
          case("long-auth-8k", "/secret/page.html", headers=[["Authorization", "Basic " + "A" * 8000]]),
          case("long-auth-9k", "/secret/page.html", headers=[["Authorization", "Basic " + "A" * 9000]]),
          case("long-other-9k", "/public/page.html", headers=[["X-Long", "b" * 9000]]),
          case("xff-ignored", "/secret/page.html", headers=[["X-Forwarded-For", "127.0.0.1"]])]
for m in ["OPTIONS", "PUT", "DELETE", "PATCH", "PROPFIND", "FOO", "get", "TRACE", "POST"]:
    cases += both("method-" + m, "/secret/page.html", m)
cases += both("protected-overlong", "/secret/%c0%afpage.html")
cases += both("pathinfo-accept", "/accept/page.html/extra")
cases += both("pathinfo-accept-missing", "/accept/missing.html/extra")
cases += both("protected-backslash", "/secret/a\\b")
cases += both("protected-ctl", "/secret/%01x")
cases += both("protected-double-enc", "/secret/%252e%252e/page.html")
cases += both("protected-dotparam", "/secret/..;/page.html")
cases += both("protected-http10", "/secret/page.html", version="HTTP/1.0")
cases += [case("options-star", "*", "OPTIONS"),
          case("te-and-cl", "/public/page.html", "POST", headers=[["Transfer-Encoding", "chunked"], ["Content-Length", "5"]], body="0\r\n\r\n"),
          case("empty-host", "/public/page.html", no_host=True, headers=[["Host", ""]]),
          case("two-hosts", "/public/page.html", no_host=True, headers=[["Host", "a.invalid"], ["Host", "b.invalid"]]),
          case("many-headers", "/public/page.html", headers=[["X-H-%d" % i, "v"] for i in range(101)]),
          case("huge-header-block", "/public/page.html", headers=[["X-Big-%d" % i, "b" * 8000] for i in range(10)]),
          case("many-headers-protected", "/secret/page.html", headers=[["X-H-%d" % i, "v"] for i in range(101)])]
cases += [case("public-method-" + m, "/public/page.html", m) for m in ["POST", "PUT", "OPTIONS", "FOO", "TRACE"]]
cases += [case("public-missing-" + m, "/public/missing.html", m) for m in ["GET", "POST", "PUT", "OPTIONS", "FOO"]]
cases += [case("public-dir-" + m, "/public/", m) for m in ["POST", "PUT", "OPTIONS"]]
scenario("paths", "Request-target spellings, methods and limits in and out of a protected folder.", files, cases)

# ---------------------------------------------------------------- headers
files = {
    "index.html": page("index"),
    "secret/.htaccess": BASIC % "Headers" + "Require valid-user\n",
    "secret/page.html": page("secret-page"),
}
good = basic("alice")[6:]
jose = basic("josé")[6:]
cases = [
    case("hdr-good", "/secret/page.html", headers=[["Authorization", "Basic " + good]]),
    case("hdr-scheme-lower", "/secret/page.html", headers=[["Authorization", "basic " + good]]),
    case("hdr-scheme-upper", "/secret/page.html", headers=[["Authorization", "BASIC " + good]]),
    case("hdr-extra-spaces", "/secret/page.html", headers=[["Authorization", "Basic    " + good]]),
    case("hdr-tab", "/secret/page.html", headers=[["Authorization", "Basic\t" + good]]),
    case("hdr-trailing-space", "/secret/page.html", headers=[["Authorization", "Basic " + good + "  "]]),
    case("hdr-no-padding", "/secret/page.html", headers=[["Authorization", "Basic " + jose.rstrip("=")]]),
    case("hdr-padding", "/secret/page.html", headers=[["Authorization", "Basic " + jose]]),
    case("hdr-garbage-after", "/secret/page.html", headers=[["Authorization", "Basic " + good + "==!!"]]),
    case("hdr-second-token", "/secret/page.html", headers=[["Authorization", "Basic " + good + " extra"]]),
    case("hdr-urlsafe", "/secret/page.html", headers=[["Authorization", basic(None, raw="alice:Wonderland-1?>").replace("+", "-").replace("/", "_")]]),
    case("hdr-nul", "/secret/page.html", headers=[["Authorization", basic(None, raw="alice:Wonderland-1\0junk")]]),
    case("hdr-two-good-first", "/secret/page.html", headers=[["Authorization", "Basic " + good], ["Authorization", basic("alice", "wrong")]]),
    case("hdr-two-wrong-first", "/secret/page.html", headers=[["Authorization", basic("alice", "wrong")], ["Authorization", "Basic " + good]]),
    case("hdr-comma-pair", "/secret/page.html", headers=[["Authorization", "Basic " + good + ", " + basic("alice", "wrong")]]),
    case("hdr-empty-user", "/secret/page.html", headers=[["Authorization", basic(None, raw=":Wonderland-1")]]),
    case("hdr-empty-password", "/secret/page.html", headers=[["Authorization", basic(None, raw="alice:")]]),
    case("hdr-no-colon", "/secret/page.html", headers=[["Authorization", basic(None, raw="alice")]]),
    case("hdr-emptypw-user", "/secret/page.html", headers=[["Authorization", basic(None, raw="emptypw:")]]),
    case("hdr-emptypw-no-colon", "/secret/page.html", headers=[["Authorization", basic(None, raw="emptypw")]]),
    case("hdr-emptypw-wrong", "/secret/page.html", headers=[["Authorization", basic(None, raw="emptypw:x")]]),
    case("hdr-latin1", "/secret/page.html", headers=[["Authorization", "Basic " + base64.b64encode("josé:pässwörd-ü".encode("latin-1")).decode()]]),
    case("hdr-utf8", "/secret/page.html", headers=[["Authorization", "Basic " + jose]]),
    case("hdr-colon-password", "/secret/page.html", headers=auth("carol")),
    case("hdr-space-password", "/secret/page.html", headers=auth("bob")),
    case("hdr-basic-only", "/secret/page.html", headers=[["Authorization", "Basic"]]),
    case("hdr-basic-space", "/secret/page.html", headers=[["Authorization", "Basic "]]),
    case("hdr-bearer", "/secret/page.html", headers=[["Authorization", "Bearer abc"]]),
    case("hdr-digest", "/secret/page.html", headers=[["Authorization", 'Digest username="alice"']]),
    case("hdr-unknown-scheme", "/secret/page.html", headers=[["Authorization", "Frob " + good]]),
    case("hdr-empty", "/secret/page.html", headers=[["Authorization", ""]]),
    case("hdr-user-case", "/secret/page.html", headers=[["Authorization", basic(None, raw="Alice:Wonderland-1")]]),
    case("hdr-password-space", "/secret/page.html", headers=[["Authorization", basic(None, raw="alice:Wonderland-1 ")]]),
    case("hdr-user-space", "/secret/page.html", headers=[["Authorization", basic(None, raw=" alice:Wonderland-1")]]),
    case("hdr-proxy-authorization", "/secret/page.html", headers=[["Proxy-Authorization", "Basic " + good]]),
    case("hdr-lower-name", "/secret/page.html", headers=[["authorization", "Basic " + good]]),
    case("hdr-long-password", "/secret/page.html", headers=[["Authorization", basic("alice", "x" * 3000)]]),
    case("hdr-bad-base64", "/secret/page.html", headers=[["Authorization", "Basic !!!!"]]),
]
scenario("headers", "How the Basic Authorization header is read: scheme, spacing, base64, odd credentials.", files, cases)

# ---------------------------------------------------------------- require-forms
R = "Require all granted\n"
files = {
    "index.html": page("index"),
    "not-user/.htaccess": BASIC % "Not User" + "<RequireAll>\n  Require all granted\n  Require not user mallory\n</RequireAll>\n",
    "valid-not-mallory/.htaccess": BASIC % "Valid Not Mallory" + "<RequireAll>\n  Require valid-user\n  Require not user mallory\n</RequireAll>\n",
    "only-negative/.htaccess": BASIC % "Only Negative" + "<RequireAll>\n  Require not user mallory\n  Require not ip 10.0.0.0/8\n</RequireAll>\n",
    "none/.htaccess": BASIC % "None" + "<RequireAll>\n  Require valid-user\n  <RequireNone>\n    Require user mallory\n    Require user carol\n  </RequireNone>\n</RequireAll>\n",
    "forbidden/.htaccess": BASIC % "Forbidden On Failure" + "AuthzSendForbiddenOnFailure On\nRequire user alice\n",
    "ip-local/.htaccess": "Require ip 127.0.0.1\n",
    "ip-partial/.htaccess": "Require ip 127.0\n",
    "ip-mask/.htaccess": "Require ip 127.0.0.0/255.0.0.0\n",
    "ip-cidr/.htaccess": "Require ip 127.0.0.0/8\n",
    "ip-v6/.htaccess": "Require ip ::1\n",
    "ip-other/.htaccess": BASIC % "IP Other" + "Require ip 10.0.0.0/8\n",
    "ip-or-user/.htaccess": BASIC % "IP Or User" + "Require ip 10.0.0.0/8\nRequire valid-user\n",
    "ip-and-user/.htaccess": BASIC % "IP And User" + "<RequireAll>\n  Require ip 127.0.0.1\n  Require valid-user\n</RequireAll>\n",
    "ip-and-user-other/.htaccess": BASIC % "IP And User Other" + "<RequireAll>\n  Require ip 10.0.0.0/8\n  Require valid-user\n</RequireAll>\n",
    "ip-bad/.htaccess": "Require ip 10.0.0.300\n",
    "host-local/.htaccess": "Require host localhost\n",
    "host-other/.htaccess": "Require host example.com\n",
    "local/.htaccess": "Require local\n",
    "not-local/.htaccess": "<RequireAll>\n  Require all granted\n  Require not local\n</RequireAll>\n",
    "expr-method/.htaccess": "Require expr %{REQUEST_METHOD} == 'GET'\n",
    "expr-user/.htaccess": BASIC % "Expr User" + "Require expr %{REMOTE_USER} == 'alice'\n",
    "expr-ip/.htaccess": "Require expr -R '127.0.0.0/8'\n",
    "expr-ua/.htaccess": "Require expr %{HTTP_USER_AGENT} =~ /harness/\n",
    "expr-query/.htaccess": "Require expr %{QUERY_STRING} =~ /key=secret/\n",
    "expr-bad/.htaccess": "Require expr %{REQUEST_METHOD} === 'GET'\n",
    "env/.htaccess": "Require env FOO\n",
    "method/.htaccess": BASIC % "Method" + "Require method GET\n",
    "method-head/.htaccess": "Require method HEAD\n",
    "method-bad/.htaccess": "Require method get\n",
    "method-or-user/.htaccess": BASIC % "Method Or User" + "Require method GET OPTIONS\nRequire valid-user\n",
    "provider-case/.htaccess": BASIC % "Provider Case" + "Require Valid-User\n",
    "all-case/.htaccess": "Require all GRANTED\n",
    "all-bad/.htaccess": "Require all maybe\n",
    "not-alone/.htaccess": BASIC % "Not Alone" + "Require not user mallory\n",
    "not-in-any/.htaccess": BASIC % "Not In Any" + "<RequireAny>\n  Require valid-user\n  Require not user mallory\n</RequireAny>\n",
    "none-top/.htaccess": BASIC % "None Top" + "<RequireNone>\n  Require user mallory\n</RequireNone>\n",
    "empty-all/.htaccess": "<RequireAll>\n</RequireAll>\n",
    "user-noargs/.htaccess": BASIC % "User No Args" + "Require user\n",
    "user-quoted/.htaccess": BASIC % "User Quoted" + "Require user \"bob\" 'carol'\n",
    "multi/.htaccess": BASIC % "Multi" + "Require user alice\nRequire user bob\n",
    "parent/.htaccess": BASIC % "Parent" + "Require user alice\n",
    "parent/merge-or/.htaccess": "AuthMerging Or\nRequire user bob\n",
    "parent/merge-and/.htaccess": "AuthMerging And\nRequire user bob\n",
    "parent/merge-off-empty/.htaccess": "AuthMerging Off\n",
    "parent/merge-and-empty/.htaccess": "AuthMerging And\n",
    "parent/forbidden-only/.htaccess": "AuthzSendForbiddenOnFailure On\n",
    "parent/realm-only/.htaccess": "AuthName \"Child Realm\"\n",
    "parent/type-none/.htaccess": "AuthType None\n",
    "group/.htaccess": BASIC % "Group" + "AuthGroupFile @AUTHDIR@/groups\nRequire group admins\n",
    "group-missing/.htaccess": BASIC % "Group Missing" + "AuthGroupFile @AUTHDIR@/no-such-groups\nRequire group admins\n",
    "group-nofile/.htaccess": BASIC % "Group No File" + "Require group admins\n",
    "group-or-user/.htaccess": BASIC % "Group Or User" + "AuthGroupFile @AUTHDIR@/groups\nRequire group staff\nRequire user mallory\n",
}
for d in list(files):
    if d.endswith(".htaccess"):
        files[os.path.dirname(d) + "/page.html"] = page(os.path.dirname(d).replace("/", "-") + "-page")
cases = []
for d in sorted({os.path.dirname(f) for f in files if f.endswith(".htaccess")}):
    p = "/%s/page.html" % d
    cid = d.replace("/", "_")
    cases.append(case(cid + "-noauth", p))
    for u in ("alice", "bob", "carol", "mallory"):
        cases.append(case(cid + "-" + u, p, headers=auth(u)))
    cases.append(case(cid + "-wrongpw", p, headers=auth("alice", "bad")))
for d in ("expr-method", "method", "method-head", "method-or-user"):
    for m in ("HEAD", "POST", "OPTIONS", "PUT", "get"):
        cases.append(case(d + "-" + m + "-noauth", "/%s/page.html" % d, m))
cases.append(case("expr-query-match", "/expr-query/page.html?key=secret"))
cases.append(case("ip-other-xff", "/ip-other/page.html", headers=[["X-Forwarded-For", "10.1.2.3"]]))
cases.append(case("ip-other-forwarded", "/ip-other/page.html", headers=[["Forwarded", "for=10.1.2.3"]]))
cases.append(case("ip-other-realip", "/ip-other/page.html", headers=[["X-Real-IP", "10.1.2.3"]]))
scenario("require-forms", "Require providers and containers: not, RequireNone, ip, host, local, expr, env, method, AuthMerging, groups, forbidden-on-failure.", files, cases)

# ---------------------------------------------------------------- server-errors
files = {
    "index.html": page("index"),
    "unknown/.htaccess": "Frobnicate on\n",
    "options/.htaccess": "Options -Indexes\n",
    "noauthname/.htaccess": "AuthType Basic\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "noauthname-granted/.htaccess": "AuthType Basic\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire all granted\n",
    "noauthtype/.htaccess": "AuthName \"No Type\"\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "badprovider/.htaccess": BASIC % "Bad Provider" + "Require frobs\n",
    "badauthtype/.htaccess": "AuthType Frob\nAuthName \"Frob\"\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "badauthtype-granted/.htaccess": "AuthType Frob\nAuthName \"Frob\"\nRequire all granted\n",
    "missing-userfile/.htaccess": "AuthType Basic\nAuthName \"Missing\"\nAuthUserFile @AUTHDIR@/no-such-file\nRequire valid-user\n",
    "no-userfile/.htaccess": "AuthType Basic\nAuthName \"No File\"\nRequire valid-user\n",
    "relative-userfile/.htaccess": "AuthType Basic\nAuthName \"Relative\"\nAuthUserFile relative.htpasswd\nRequire valid-user\n",
    "bad-provider-basic/.htaccess": "AuthType Basic\nAuthName \"DBM\"\nAuthBasicProvider dbm\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "unclosed/.htaccess": "<RequireAll>\nRequire all granted\n",
    "stray-close/.htaccess": "Require all granted\n</RequireAll>\n",
    "mismatch/.htaccess": "<RequireAll>\nRequire all granted\n</RequireAny>\n",
    "order/.htaccess": "Order allow,deny\nAllow from all\n",
    "satisfy/.htaccess": "Satisfy Any\n",
    "rewrite/.htaccess": "RewriteEngine On\n",
    "header/.htaccess": "Header set X-Test 1\n",
    "ifmodule-rewrite/.htaccess": "<IfModule mod_rewrite.c>\nRewriteEngine On\nRewriteRule ^ - [F]\n</IfModule>\nRequire all granted\n",
    "ifmodule-not/.htaccess": "<IfModule !mod_rewrite.c>\nRequire all denied\n</IfModule>\n",
    "ifmodule-id/.htaccess": "<IfModule authz_core_module>\nRequire all denied\n</IfModule>\n",
    "ifmodule-alias/.htaccess": "<IfModule mod_alias.c>\nRedirect /ifmodule-alias/page.html /index.html\n</IfModule>\n",
    "ifmodule-compat/.htaccess": "<IfModule mod_access_compat.c>\nOrder deny,allow\nDeny from all\n</IfModule>\n<IfModule !mod_access_compat.c>\nRequire all denied\n</IfModule>\n",
    "ifversion/.htaccess": "<IfVersion >= 2.4>\nRequire all denied\n</IfVersion>\n",
    "ifversion-old/.htaccess": "<IfVersion < 2.4>\nRequire all denied\n</IfVersion>\n",
    "ifdefine/.htaccess": "<IfDefine FOO>\nRequire all denied\n</IfDefine>\n",
    "ifdefine-not/.htaccess": "<IfDefine !FOO>\nRequire all denied\n</IfDefine>\n",
    "allowoverride/.htaccess": "AllowOverride All\n",
    "directory/.htaccess": "<Directory />\nRequire all denied\n</Directory>\n",
    "limit-trace/.htaccess": "<Limit TRACE>\nRequire all denied\n</Limit>\n",
    "limit-lower/.htaccess": "<Limit get>\nRequire all denied\n</Limit>\n",
    "limit-unknown/.htaccess": "<Limit FOO>\nRequire all denied\n</Limit>\n",
    "limit-noargs/.htaccess": "<Limit>\nRequire all denied\n</Limit>\n",
    "files-in-limit/.htaccess": "<Limit GET>\n<Files x>\nRequire all denied\n</Files>\n</Limit>\n",
    "empty/.htaccess": "",
    "comments/.htaccess": "# a comment\n   # indented comment\n\nRequire all denied # not a comment\n",
    "continuation/.htaccess": "AuthType Basic\nAuthName \"Cont\\\n inued\"\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire \\\n  user alice\n",
    "crlf/.htaccess": "AuthType Basic\r\nAuthName \"CRLF\"\r\nAuthUserFile @AUTHDIR@/.htpasswd\r\nRequire valid-user\r\n",
    "case/.htaccess": "authtype basic\nAUTHNAME \"Case\"\nauthuserfile @AUTHDIR@/.htpasswd\nrequire valid-user\n",
    "authname-empty/.htaccess": "AuthType Basic\nAuthName \"\"\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "authname-two/.htaccess": "AuthType Basic\nAuthName two words\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "errordoc-bad/.htaccess": "ErrorDocument 999 /x.html\n",
    "digest-qop-int/.htaccess": "AuthType Digest\nAuthName \"Q\"\nAuthDigestQop auth-int\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "digest-md5sess/.htaccess": "AuthType Digest\nAuthName \"Q\"\nAuthDigestAlgorithm MD5-sess\nAuthUserFile @AUTHDIR@/.htpasswd\nRequire valid-user\n",
    "mime/.htaccess": "AddType text/plain .html\nAddCharset utf-8 .html\nAddDefaultCharset utf-8\nAddHandler cgi-script .cgi\nFileETag None\nDefaultLanguage en\n",
    "parent-broken/.htaccess": "Frobnicate on\n",
    "parent-broken/child/.htaccess": "Require all granted\n",
    "quoted-directive/.htaccess": "\"Require\" all denied\n",
}
for d in list(files):
    if d.endswith(".htaccess"):
        files[os.path.dirname(d) + "/page.html"] = page(os.path.dirname(d).replace("/", "-") + "-page")
cases = []
for d in sorted({os.path.dirname(f) for f in files if f.endswith(".htaccess")}):
    cid = d.replace("/", "_")
    cases += both(cid, "/%s/page.html" % d)
    cases.append(case(cid + "-missing", "/%s/missing.html" % d))
cases += [case("unknown-dir", "/unknown/"), case("unknown-noslash", "/unknown"),
          case("parent-broken-child-dir", "/parent-broken/child/")]
scenario("server-errors", "Broken and unusual .htaccess files: unknown directives, directives not allowed, missing files, IfModule/IfVersion/IfDefine, syntax.", files, cases)

# ---------------------------------------------------------------- files
files = {
    "index.html": page("index"),
    "files/.htaccess": BASIC % "Files" + "<Files \"private.html\">\n  Require valid-user\n</Files>\n<FilesMatch \"\\.(bak|old)$\">\n  Require all denied\n</FilesMatch>\n<Files ~ \"^secret-\">\n  Require user alice\n</Files>\n",
    "files/public.html": page("files-public"),
    "files/private.html": page("files-private"),
    "files/doc.bak": "MARKER:files-bak\n",
    "files/secret-x.html": page("files-secret-x"),
    "files/sub/private.html": page("files-sub-private"),
    "files/sub/page.html": page("files-sub-page"),
    "files/sub/.htaccess": "<Files \"page.html\">\n  Require user bob\n</Files>\n",
    "files/.htpasswd": "x:y\n",
    "glob/.htaccess": "<Files \"*.txt\">\n  Require all denied\n</Files>\n<Files \"data?.csv\">\n  Require all denied\n</Files>\n<Files \"[ab].html\">\n  Require all denied\n</Files>\n",
    "glob/a.txt": "MARKER:glob-a-txt\n",
    "glob/a.html": page("glob-a"),
    "glob/c.html": page("glob-c"),
    "glob/data1.csv": "MARKER:glob-data1\n",
    "glob/data10.csv": "MARKER:glob-data10\n",
    "files-limit/.htaccess": BASIC % "Files Limit" + "<Files \"post.html\">\n  <Limit POST>\n    Require valid-user\n  </Limit>\n</Files>\n",
    "files-limit/post.html": page("files-limit-post"),
    "files-missing/.htaccess": "<Files \"missing.html\">\n  Require all denied\n</Files>\n",
    "files-index/.htaccess": BASIC % "Files Index" + "<Files \"index.html\">\n  Require valid-user\n</Files>\n",
    "files-index/index.html": page("files-index-index"),
    "files-index/other.html": page("files-index-other"),
    "files-dir/.htaccess": "<Files \"sub\">\n  Require all denied\n</Files>\n",
    "files-dir/sub/page.html": page("files-dir-sub-page"),
    "files-case/.htaccess": "<FilesMatch \"\\.PHP$\">\n  Require all denied\n</FilesMatch>\n",
    "files-case/a.php": "MARKER:files-case-php\n",
    "files-case/b.PHP": "MARKER:files-case-PHP\n",
    "files-override/.htaccess": "Require all denied\n<Files \"open.html\">\n  Require all granted\n</Files>\n",
    "files-override/open.html": page("files-override-open"),
    "files-override/closed.html": page("files-override-closed"),
    "files-ht/.htaccess": "<Files \".htaccess\">\n  Require all granted\n</Files>\n",
    "files-merge/.htaccess": BASIC % "Files Merge" + "Require valid-user\n<Files \"alice.html\">\n  AuthMerging And\n  Require user alice\n</Files>\n",
    "files-merge/alice.html": page("files-merge-alice"),
}
cases = []
for p in ["/files/public.html", "/files/private.html", "/files/doc.bak", "/files/secret-x.html", "/files/sub/private.html",
          "/files/sub/page.html", "/files/.htpasswd", "/files/.htaccess", "/files/missing.bak", "/files/sub/",
          "/glob/a.txt", "/glob/a.html", "/glob/c.html", "/glob/data1.csv", "/glob/data10.csv", "/glob/missing.txt",
          "/files-missing/missing.html", "/files-missing/other.html",
          "/files-index/", "/files-index/index.html", "/files-index/other.html",
          "/files-dir/sub/page.html", "/files-dir/sub", "/files-case/a.php", "/files-case/b.PHP",
          "/files-override/open.html", "/files-override/closed.html", "/files-ht/.htaccess",
          "/files-merge/alice.html"]:
    cid = p.strip("/").replace("/", "_") or "root"
    cases.append(case(cid + "-noauth", p))
    cases.append(case(cid + "-alice", p, headers=auth("alice")))
    cases.append(case(cid + "-bob", p, headers=auth("bob")))
for m in ("GET", "POST"):
    cases += both("files-limit-" + m, "/files-limit/post.html", m)
scenario("files", "<Files>, <FilesMatch> and <Files ~> blocks: exact names, globs, regexes, inheritance, .ht* files, missing files, index files.", files, cases)

# ---------------------------------------------------------------- redirects
files = {
    "index.html": page("index"),
    ".htaccess": "Redirect /old /public/page.html\nRedirect permanent /perm /public/\nRedirectMatch \"^/match/(.*)\\.htm$\" /public/$1.html\n"
                 "Redirect 303 /see /public/page.html\nRedirect gone /gone\nRedirectTemp /temp http://example.invalid/x\n"
                 "RedirectPermanent /perm2 /public/page.html\nRedirect 410 /gone2\nRedirect /q /public/page.html?fixed=1\n"
                 "RedirectMatch 301 ^/rm301$ /public/\nRedirect /dir/ /public/\nRedirect /sp /public/a%20b\n",
    "public/index.html": page("public-index"),
    "public/page.html": page("public-page"),
    "secret/.htaccess": BASIC % "Redirects" + "Require valid-user\nRedirect /secret/moved /public/page.html\n",
    "secret/page.html": page("secret-page"),
    "all/.htaccess": "Redirect 301 /public/\n",
    "all/page.html": page("all-page"),
    "bad/.htaccess": "Redirect /bad relative/path\n",
    "bad/page.html": page("bad-page"),
    "child/.htaccess": "Redirect /child/x /public/page.html\n",
    "child/grand/.htaccess": "Redirect /child/x /index.html\n",
}
cases = []
for p in ["/old", "/old/", "/old/x", "/old/x?q=1", "/old?q=1", "/oldish", "/OLD", "/%6fld", "//old", "/./old", "/old;x",
          "/old%2fx", "/old/a%20b", "/perm", "/perm/sub", "/match/a.htm", "/match/x/y.htm", "/match/a.html", "/see", "/gone",
          "/gone/x", "/temp", "/temp/y?z=1", "/perm2", "/gone2", "/q", "/q?a=1", "/rm301", "/rm301/", "/dir/", "/dir/x", "/dir",
          "/sp", "/all/page.html", "/all/missing", "/all/", "/bad/page.html", "/child/x", "/child/grand/x"]:
    cid = p.strip("/").replace("/", "_").replace("?", "Q") or "root"
    if p.endswith("/") and len(p) > 1:
        cid += "-slash"
    if p.startswith("//"):
        cid = "dslash-" + cid
    cases.append(case("r-" + cid, p))
cases += both("secret-moved", "/secret/moved")
cases += both("secret-page", "/secret/page.html")
cases += [case("r-old-head", "/old", "HEAD"), case("r-old-post", "/old", "POST"), case("r-old-put", "/old", "PUT"),
          case("r-old-options", "/old", "OPTIONS")]
scenario("redirects", "mod_alias in .htaccess: Redirect, RedirectMatch, RedirectPermanent, RedirectTemp, statuses, queries, spellings.", files, cases)

# ---------------------------------------------------------------- dirindex
files = {
    "index.html": page("index"),
    "public/page.html": page("public-page"),
    "custom/.htaccess": "DirectoryIndex start.html\n",
    "custom/start.html": page("custom-start"),
    "custom/index.html": page("custom-index"),
    "multi/.htaccess": "DirectoryIndex missing.html second.html\n",
    "multi/second.html": page("multi-second"),
    "disabled/.htaccess": "DirectoryIndex disabled\n",
    "disabled/index.html": page("disabled-index"),
    "noslash/.htaccess": "DirectorySlash Off\n",
    "noslash/index.html": page("noslash-index"),
    "noindex/page.html": page("noindex-page"),
    "fallback/.htaccess": "FallbackResource /public/page.html\n",
    "fallback/exists.html": page("fallback-exists"),
    "absolute/.htaccess": "DirectoryIndex /public/page.html\n",
    "inherit/.htaccess": "DirectoryIndex start.html\n",
    "inherit/sub/start.html": page("inherit-sub-start"),
    "protected-index/.htaccess": BASIC % "Index" + "Require valid-user\n",
    "protected-index/index.html": page("protected-index-index"),
    "redirect-index/.htaccess": "DirectoryIndexRedirect on\n",
    "redirect-index/index.html": page("redirect-index-index"),
    "fallback-rel/.htaccess": "FallbackResource page.html\n",
    "fallback-rel/page.html": page("fallback-rel-page"),
    "fallback-rel/sub/x.html": page("fallback-rel-sub-x"),
    "empty-index/.htaccess": "DirectoryIndex\n",
    "empty-index/index.html": page("empty-index-index"),
    "fallback/withinfo.html": page("fallback-withinfo"),
}
cases = []
for p in ["/custom/", "/custom", "/multi/", "/disabled/", "/noslash", "/noslash/", "/noindex/", "/noindex", "/fallback/missing",
          "/fallback/exists.html", "/fallback/", "/fallback/a/b", "/absolute/", "/inherit/sub/", "/protected-index/", "/protected-index",
          "/redirect-index/", "/redirect-index/?a=1", "/fallback-rel/missing", "/fallback-rel/sub/missing", "/fallback-rel/sub/",
          "/empty-index/", "/fallback/withinfo.html/x"]:
    cid = p.strip("/").replace("/", "_").replace("?", "Q")
    cases.append(case(cid + ("-slash" if p.endswith("/") else ""), p))
for m in ("POST", "PUT", "OPTIONS", "HEAD", "FOO"):
    cases.append(case("noindex-" + m, "/noindex/", m))
    cases.append(case("custom-" + m, "/custom/", m))
    cases.append(case("custom-noslash-" + m, "/custom", m))
cases += both("protected-index-dir", "/protected-index/")
scenario("dirindex", "mod_dir: DirectoryIndex, disabled, DirectorySlash Off, FallbackResource, directories without an index.", files, cases)

# ---------------------------------------------------------------- errordocs
files = {
    "index.html": page("index"),
    ".htaccess": "ErrorDocument 404 /custom404.html\n",
    "custom404.html": page("custom404"),
    "remote403/.htaccess": "Require all denied\nErrorDocument 403 http://example.invalid/denied\n",
    "remote403/page.html": page("remote403-page"),
    "text404/.htaccess": "ErrorDocument 404 \"Not here MARKER:text404\"\n",
    "word403/.htaccess": "Require all denied\nErrorDocument 403 MARKER:word403\n",
    "word403/page.html": page("word403-page"),
    "local404-protected/.htaccess": "ErrorDocument 404 /secret/err.html\n",
    "secret/.htaccess": BASIC % "Secret" + "Require valid-user\n",
    "secret/err.html": page("secret-err"),
    "secret/page.html": page("secret-page"),
    "default/.htaccess": "ErrorDocument 404 default\n",
    "e405/.htaccess": "ErrorDocument 405 \"Nope MARKER:e405\"\nErrorDocument 501 \"Unknown MARKER:e501\"\n",
    "e405/page.html": page("e405-page"),
    "e500/.htaccess": "AuthType Basic\nAuthName \"E500\"\nAuthUserFile @AUTHDIR@/no-such-file\nRequire valid-user\nErrorDocument 500 \"Broken MARKER:e500\"\nErrorDocument 401 \"Login MARKER:e401\"\n",
    "e500/page.html": page("e500-page"),
    "files-doc/.htaccess": "<Files \"x.html\">\n  ErrorDocument 403 \"Files 403 MARKER:files403\"\n  Require all denied\n</Files>\n",
    "files-doc/x.html": page("files-doc-x"),
    "files-doc/y.html": page("files-doc-y"),
    "broken/.htaccess": "ErrorDocument 500 \"Broken MARKER:broken500\"\nFrobnicate\n",
    "broken/page.html": page("broken-page"),
    "redirect-gone/.htaccess": "ErrorDocument 410 \"Gone MARKER:gone410\"\nRedirect gone /redirect-gone/page.html\n",
    "redirect-gone/page.html": page("redirect-gone-page"),
    "missing-local/.htaccess": "ErrorDocument 404 /no-such-doc.html\n",
    "dir-doc/.htaccess": "ErrorDocument 404 /public/\n",
    "public/index.html": page("public-index"),
    "query-doc/.htaccess": "ErrorDocument 404 /custom404.html?x=1\n",
    "forbidden-dotdot/.htaccess": "ErrorDocument 404 /secret/../custom404.html\n",
    "htdoc/.htaccess": "ErrorDocument 404 /htdoc/.htdoc.html\n",
    "htdoc/.htdoc.html": page("htdoc"),
}
cases = []
for p in ["/missing.html", "/public/missing.html", "/remote403/page.html", "/text404/missing", "/word403/page.html",
          "/local404-protected/missing", "/default/missing", "/e405/missing", "/e500/page.html", "/files-doc/x.html",
          "/files-doc/y.html", "/files-doc/z.html", "/broken/page.html", "/redirect-gone/page.html", "/missing-local/x",
          "/dir-doc/x", "/query-doc/x", "/forbidden-dotdot/x", "/htdoc/x", "/custom404.html", "/secret/err.html"]:
    cid = p.strip("/").replace("/", "_")
    cases.append(case(cid + "-noauth", p))
    cases.append(case(cid + "-alice", p, headers=auth("alice")))
for m in ("PUT", "FOO", "HEAD"):
    cases.append(case("e405-" + m, "/e405/page.html", m))
cases.append(case("e500-wrong", "/e500/page.html", headers=auth("alice", "bad")))
cases.append(case("missing-head", "/missing.html", "HEAD"))
scenario("errordocs", "ErrorDocument: remote URLs for 403, text, single words, protected and missing local documents, default, 405/501/500/410, inside <Files>.", files, cases)


# ---------------------------------------------------------------- digest-htaccess
DIGEST = """AuthType Digest
AuthName "%s"
AuthDigestProvider file
AuthUserFile @AUTHDIR@/.htdigest
"""
files = {
    "index.html": page("index"),
    "secret/.htaccess": DIGEST % "Digest Realm" + "AuthDigestDomain /secret/ /other/\nRequire valid-user\n",
    "secret/page.html": page("secret-page"),
    "secret/inherit/page.html": page("inherit-page"),
    "secret/realm-reset/.htaccess": "AuthName \"Digest Realm\"\n",
    "secret/realm-reset/page.html": page("realm-reset-page"),
    "secret/lifetime/.htaccess": "AuthDigestNonceLifetime 600\n",
    "secret/lifetime/page.html": page("lifetime-page"),
    "secret/alice/.htaccess": "Require user alice\n",
    "secret/alice/page.html": page("alice-page"),
    "secret/forbidden/.htaccess": "AuthzSendForbiddenOnFailure On\nRequire user alice\n",
    "secret/forbidden/page.html": page("forbidden-page"),
    "secret/limit/.htaccess": "<Limit POST>\nRequire valid-user\n</Limit>\n",
    "secret/limit/page.html": page("limit-page"),
    "secret/errdoc/.htaccess": "ErrorDocument 401 \"Digest login MARKER:digest401\"\n",
    "secret/errdoc/page.html": page("errdoc-page"),
    "secret/group/.htaccess": "AuthGroupFile @AUTHDIR@/groups\nRequire group admins\n",
    "secret/group/page.html": page("group-page"),
    "qop-none/.htaccess": DIGEST % "Digest Realm" + "AuthDigestQop none\nRequire valid-user\n",
    "qop-none/page.html": page("qop-none-page"),
    "to-basic/.htaccess": DIGEST % "Digest Realm" + "Require valid-user\n",
    "to-basic/sub/.htaccess": BASIC % "Basic Child" + "Require valid-user\n",
    "to-basic/sub/page.html": page("to-basic-sub-page"),
    "missing-file/.htaccess": "AuthType Digest\nAuthName \"Digest Realm\"\nAuthUserFile @AUTHDIR@/no-such-file\nRequire valid-user\n",
    "missing-file/page.html": page("missing-file-page"),
    "no-name/.htaccess": "AuthType Digest\nAuthUserFile @AUTHDIR@/.htdigest\nRequire valid-user\n",
    "no-name/page.html": page("no-name-page"),
}
cases = []
for d in ["secret", "secret/inherit", "secret/realm-reset", "secret/lifetime", "secret/alice", "secret/forbidden",
          "secret/limit", "secret/errdoc", "secret/group", "qop-none", "to-basic/sub", "missing-file", "no-name"]:
    cid = d.replace("/", "_")
    p = "/%s/page.html" % d
    cases.append(case(cid + "-noauth", p))
    for u in ("alice", "bob"):
        cases.append(case(cid + "-" + u, p, digest={"user": u, "password": PW[u], **({"qop": None} if d == "qop-none" else {})}))
    cases.append(case(cid + "-wrong", p, digest={"user": "alice", "password": "nope"}))
    cases.append(case(cid + "-basic", p, headers=auth("alice")))
cases.append(case("secret_limit-POST-noauth", "/secret/limit/page.html", "POST"))
cases.append(case("secret_limit-POST-alice", "/secret/limit/page.html", "POST", digest={"user": "alice", "password": PW["alice"]}))
cases.append(case("qop-none-with-qop", "/qop-none/page.html", digest={"user": "alice", "password": PW["alice"]}))
cases.append(case("secret-dir", "/secret", digest={"user": "alice", "password": PW["alice"], "challenge_path": "/secret/page.html"}))
cases.append(case("secret-missing", "/secret/missing.html", digest={"user": "alice", "password": PW["alice"]}))
scenario("digest-htaccess", "Digest in .htaccess: inheritance and reset of mod_auth_digest settings, Require forms, Limit, ErrorDocument, groups, errors.", files, cases)
DIGEST_REALMS = {"digest-htaccess": "Digest Realm"}


def write():
    keep = {}  # credential files are kept (fresh salts would only churn)
    for name in SCENARIOS:
        p = os.path.join(HERE, "scenarios", name, "auth", ".htpasswd")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as fh:
                keep[name] = fh.read()
    for sub in ("scenarios", "cases"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    for name, (desc, files, cases) in SCENARIOS.items():
        root = os.path.join(HERE, "scenarios", name)
        for rel, content in files.items():
            p = os.path.join(root, "docroot", rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
        authdir = os.path.join(root, "auth")
        os.makedirs(authdir, exist_ok=True)
        pw = os.path.join(authdir, ".htpasswd")
        if name in keep:
            with open(pw, "w", encoding="utf-8") as fh:
                fh.write(keep[name])
        else:
            for i, (u, p) in enumerate(USERS):
                flags = "-bcm" if i == 0 else "-bm"
                subprocess.run(["htpasswd", flags, pw, u, p], check=True, capture_output=True)
        if name in DIGEST_REALMS:
            import hashlib
            realm = DIGEST_REALMS[name]
            with open(os.path.join(authdir, ".htdigest"), "w", encoding="utf-8") as fh:
                for u, p in USERS:
                    fh.write("%s:%s:%s\n" % (u, realm, hashlib.md5(("%s:%s:%s" % (u, realm, p)).encode()).hexdigest()))
        with open(os.path.join(authdir, "groups"), "w") as fh:
            fh.write("admins: alice carol\nstaff: bob\nempty:\n")
        meta = {"name": name, "description": desc,
                "credentials": [{"file": ".htpasswd", "user": u, "password": p, "htpasswd_flag": "-m"} for u, p in USERS],
                "groups": {"admins": ["alice", "carol"], "staff": ["bob"], "empty": []}}
        with open(os.path.join(root, "scenario.json"), "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        with open(os.path.join(root, "README"), "w", encoding="utf-8") as fh:
            fh.write("%s\n%s\n\n%s\n\nUsers: see scenario.json.\n" % (name, "=" * len(name), desc))
        os.makedirs(os.path.join(HERE, "cases"), exist_ok=True)
        ids = [c["id"] for c in cases]
        assert len(ids) == len(set(ids)), name
        with open(os.path.join(HERE, "cases", name + ".json"), "w", encoding="utf-8") as fh:
            json.dump({"scenario": name, "cases": cases}, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        print("%-14s %4d cases" % (name, len(cases)))


if __name__ == "__main__":
    write()
