package htaccess

import "net/http"

// spec describes one directive of the emulated server.
type spec struct {
	module string
	class  Override // allowed when the AllowOverride in force has any of these
	always bool     // OR_ALL: allowed whatever AllowOverride says
	server bool     // server configuration only: "not allowed here" in .htaccess
	fn     func(*compiler, *Directive, ctx) error
}

// modAccessCompat marks the directives of mod_access_compat, which exist
// only when Options.AccessCompat is set.
const modAccessCompat = "access_compat"

// directives are the directives of the emulated modules, keyed by their
// lower-case name ("<files" for a container). A directive that is not
// here is unknown: "Invalid command".
var directives = map[string]spec{
	// mod_authn_core, mod_authn_file, mod_authz_groupfile
	"authtype":      {class: OverrideAuthConfig, fn: setAuthType},
	"authname":      {class: OverrideAuthConfig, fn: setAuthName},
	"authuserfile":  {class: OverrideAuthConfig, fn: setUserFile},
	"authgroupfile": {class: OverrideAuthConfig, fn: setGroupFile},
	// mod_auth_basic
	"authbasicprovider":           {class: OverrideAuthConfig, fn: setBasicProvider},
	"authbasicauthoritative":      {class: OverrideAuthConfig, fn: setBasicAuthoritative},
	"authbasicfake":               {class: OverrideAuthConfig, fn: accepted},
	"authbasicusedigestalgorithm": {class: OverrideAuthConfig, fn: useDigestAlgorithm},
	// mod_auth_digest
	"authdigestprovider":      {class: OverrideAuthConfig, fn: setDigestProvider},
	"authdigestqop":           {class: OverrideAuthConfig, fn: setDigestQop},
	"authdigestnoncelifetime": {class: OverrideAuthConfig, fn: setNonceLifetime},
	"authdigestnonceformat":   {class: OverrideAuthConfig, fn: nonceFormat},
	"authdigestnccheck":       {class: OverrideAuthConfig, fn: setNcCheck},
	"authdigestalgorithm":     {class: OverrideAuthConfig, fn: setDigestAlgorithm},
	"authdigestdomain":        {class: OverrideAuthConfig, fn: setDigestDomain},
	"authdigestshmemsize":     {server: true},
	// mod_authz_core
	"require":                     {class: OverrideAuthConfig, fn: addRequire},
	"<requireall":                 {class: OverrideAuthConfig, fn: requireSection},
	"<requireany":                 {class: OverrideAuthConfig, fn: requireSection},
	"<requirenone":                {class: OverrideAuthConfig, fn: requireSection},
	"authmerging":                 {class: OverrideAuthConfig, fn: setAuthMerging},
	"authzsendforbiddenonfailure": {class: OverrideAuthConfig, fn: setForbiddenOnFailure},
	"<authzprovideralias":         {server: true},
	"<authnprovideralias":         {server: true},
	// mod_access_compat (Options.AccessCompat)
	"order":   {module: modAccessCompat, class: OverrideLimit, fn: setOrder},
	"allow":   {module: modAccessCompat, class: OverrideLimit, fn: allowDenyFn(true)},
	"deny":    {module: modAccessCompat, class: OverrideLimit, fn: allowDenyFn(false)},
	"satisfy": {module: modAccessCompat, class: OverrideAuthConfig, fn: setSatisfy},
	// core: sections
	"<limit":          {class: OverrideLimit | OverrideAuthConfig, fn: limitSection},
	"<limitexcept":    {class: OverrideLimit | OverrideAuthConfig, fn: limitSection},
	"<files":          {always: true, fn: filesSectionFn},
	"<filesmatch":     {always: true, fn: filesSectionFn},
	"<ifmodule":       {always: true, fn: ifModule},
	"<ifdefine":       {always: true, fn: ifDefine},
	"<ifversion":      {always: true, fn: ifVersion},
	"<iffile":         {always: true, fn: ifFile},
	"<ifdirective":    {always: true, fn: ifDirective},
	"<ifsection":      {always: true, fn: ifSection},
	"<if":             {always: true, fn: unsupportedIf},
	"<elseif":         {always: true, fn: unsupportedIf},
	"<else":           {always: true, fn: unsupportedIf},
	"<directory":      {server: true},
	"<directorymatch": {server: true},
	"<location":       {server: true},
	"<locationmatch":  {server: true},
	"<virtualhost":    {server: true},
	// core: FileInfo, Options, OR_ALL
	"errordocument":       {class: OverrideFileInfo, fn: setErrorDocument},
	"options":             {class: OverrideOptions, fn: setOptions},
	"acceptpathinfo":      {class: OverrideFileInfo, fn: setAcceptPathInfo},
	"adddefaultcharset":   {class: OverrideFileInfo, fn: setDefaultCharset},
	"forcetype":           {class: OverrideFileInfo, fn: setForceType},
	"sethandler":          {class: OverrideFileInfo, fn: accepted},
	"setinputfilter":      {class: OverrideFileInfo, fn: accepted},
	"setoutputfilter":     {class: OverrideFileInfo, fn: accepted},
	"defaulttype":         {class: OverrideFileInfo, fn: accepted},
	"fileetag":            {class: OverrideFileInfo, fn: accepted},
	"enablemmap":          {class: OverrideFileInfo, fn: accepted},
	"enablesendfile":      {class: OverrideFileInfo, fn: accepted},
	"cgimapextension":     {class: OverrideFileInfo, fn: accepted},
	"cgivar":              {class: OverrideFileInfo, fn: accepted},
	"qualifyredirecturl":  {class: OverrideFileInfo, fn: accepted},
	"cgipassauth":         {class: OverrideAuthConfig, fn: accepted},
	"contentdigest":       {class: OverrideOptions, fn: accepted},
	"serversignature":     {always: true, fn: accepted},
	"limitrequestbody":    {always: true, fn: accepted},
	"limitxmlrequestbody": {always: true, fn: accepted},
	"rlimitcpu":           {always: true, fn: accepted},
	"rlimitmem":           {always: true, fn: accepted},
	"rlimitnproc":         {always: true, fn: accepted},
	// core: server configuration only
	"allowoverride":         {server: true},
	"allowoverridelist":     {server: true},
	"allowencodedslashes":   {server: true},
	"documentroot":          {server: true},
	"servername":            {server: true},
	"serveralias":           {server: true},
	"serveradmin":           {server: true},
	"serverroot":            {server: true},
	"listen":                {server: true},
	"include":               {server: true},
	"includeoptional":       {server: true},
	"define":                {server: true},
	"undefine":              {server: true},
	"loglevel":              {server: true},
	"errorlog":              {server: true},
	"hostnamelookups":       {server: true},
	"usecanonicalname":      {server: true},
	"traceenable":           {server: true},
	"mergeslashes":          {server: true},
	"keepalive":             {server: true},
	"timeout":               {server: true},
	"limitrequestfieldsize": {server: true},
	"limitrequestfields":    {server: true},
	"limitrequestline":      {server: true},
	"customlog":             {server: true},
	"logformat":             {server: true},
	"transferlog":           {server: true},
	"loadmodule":            {server: true},
	"user":                  {server: true},
	"group":                 {server: true},
	// mod_alias
	"redirect":          {class: OverrideFileInfo, fn: redirectFn(http.StatusFound, false, 3)},
	"redirecttemp":      {class: OverrideFileInfo, fn: redirectFn(http.StatusFound, false, 2)},
	"redirectpermanent": {class: OverrideFileInfo, fn: redirectFn(http.StatusMovedPermanently, false, 2)},
	"redirectmatch":     {class: OverrideFileInfo, fn: redirectFn(http.StatusFound, true, 3)},
	"alias":             {server: true},
	"aliasmatch":        {server: true},
	"scriptalias":       {server: true},
	"scriptaliasmatch":  {server: true},
	// mod_dir
	"directoryindex":         {class: OverrideIndexes, fn: setDirectoryIndex},
	"directoryslash":         {class: OverrideIndexes, fn: setDirectorySlash},
	"fallbackresource":       {class: OverrideIndexes, fn: setFallback},
	"directorycheckhandler":  {class: OverrideIndexes, fn: accepted},
	"directoryindexredirect": {class: OverrideIndexes, fn: setIndexRedirect},
	// mod_mime
	"addtype":            {class: OverrideFileInfo, fn: addMimeMap(false)},
	"addcharset":         {class: OverrideFileInfo, fn: addMimeMap(true)},
	"removetype":         {class: OverrideFileInfo, fn: removeMime(false)},
	"removecharset":      {class: OverrideFileInfo, fn: removeMime(true)},
	"addencoding":        {class: OverrideFileInfo, fn: accepted},
	"addlanguage":        {class: OverrideFileInfo, fn: accepted},
	"addhandler":         {class: OverrideFileInfo, fn: accepted},
	"addinputfilter":     {class: OverrideFileInfo, fn: accepted},
	"addoutputfilter":    {class: OverrideFileInfo, fn: accepted},
	"removeencoding":     {class: OverrideFileInfo, fn: accepted},
	"removelanguage":     {class: OverrideFileInfo, fn: accepted},
	"removehandler":      {class: OverrideFileInfo, fn: accepted},
	"removeinputfilter":  {class: OverrideFileInfo, fn: accepted},
	"removeoutputfilter": {class: OverrideFileInfo, fn: accepted},
	"defaultlanguage":    {class: OverrideFileInfo, fn: accepted},
	"multiviewsmatch":    {class: OverrideFileInfo, fn: accepted},
	"modmimeusepathinfo": {server: true},
	"typesconfig":        {server: true},
}

// unsupportedModules name the module of well-known directives of modules
// the emulated server does not load, for a clearer error.
var unsupportedModules = map[string]string{
	"rewriteengine": "mod_rewrite", "rewriterule": "mod_rewrite", "rewritecond": "mod_rewrite", "rewritebase": "mod_rewrite",
	"header": "mod_headers", "requestheader": "mod_headers",
	"expiresactive": "mod_expires", "expiresbytype": "mod_expires", "expiresdefault": "mod_expires",
	"setenv": "mod_env", "unsetenv": "mod_env", "passenv": "mod_env",
	"setenvif": "mod_setenvif", "setenvifnocase": "mod_setenvif", "browsermatch": "mod_setenvif", "browsermatchnocase": "mod_setenvif",
	"indexoptions": "mod_autoindex", "indexignore": "mod_autoindex", "headername": "mod_autoindex", "readmename": "mod_autoindex",
	"adddescription": "mod_autoindex", "addicon": "mod_autoindex",
	"addoutputfilterbytype": "mod_filter", "deflatecompressionlevel": "mod_deflate",
	"php_value": "mod_php", "php_flag": "mod_php", "php_admin_value": "mod_php", "php_admin_flag": "mod_php",
	"authldapurl": "mod_authnz_ldap", "authdbmuserfile": "mod_authn_dbm", "authdbmgroupfile": "mod_authz_dbm",
	"authformprovider": "mod_auth_form", "session": "mod_session", "ssloptions": "mod_ssl", "sslrequiressl": "mod_ssl",
	"addhandlerbytype": "mod_mime", "checkspelling": "mod_speling", "action": "mod_actions",
	"order": "mod_access_compat (set apache.access_compat)", "allow": "mod_access_compat (set apache.access_compat)",
	"deny": "mod_access_compat (set apache.access_compat)", "satisfy": "mod_access_compat (set apache.access_compat)",
}
