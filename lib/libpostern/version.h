/* The one place that names the release and what it was built with. */
#ifndef POSTERN_VERSION_H
#define POSTERN_VERSION_H

#define POSTERN_VERSION		"0.1"
#define POSTERN_TLS_LIBRARY	"libtls"
#define POSTERN_AUTH_LIBRARY	"Cyrus SASL; oauthbearer and xoauth2: built-in"
/*
 * Listed as msmtp lists them: lowercase, each followed by a space.  A
 * method is listed once a test has shown it working against a real
 * server; the others are listed apart, as untested.
 */
#define POSTERN_AUTH_METHODS	"scram-sha-256-plus scram-sha-1-plus " \
				"scram-sha-256 scram-sha-1 plain gssapi " \
				"external oauthbearer cram-md5 digest-md5 " \
				"login xoauth2 "
#define POSTERN_AUTH_UNTESTED	"ntlm "

#endif
