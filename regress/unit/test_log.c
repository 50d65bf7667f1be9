/*
 * What reaches a terminal or a log: control characters, C1 included in
 * both its forms, become '?'; other text, UTF-8 or not, stays.
 */
#include <string.h>

#include "log.h"
#include "tap.h"
#include "utf8.h"

static const struct {
	const char	*in;
	const char	*out;
	const char	*what;
} vec[] = {
	{ "250 ok", "250 ok", "plain ASCII" },
	{ "a\x1b[31mb", "a?[31mb", "ESC" },
	{ "a\x7f" "b", "a?b", "DEL" },
	{ "a\xc2\x9b" "31mb", "a?31mb", "CSI in UTF-8" },
	{ "a\xc2\x85" "b", "a?b", "NEL in UTF-8" },
	{ "a\xc2\x80\xc2\x9f" "b", "a??b", "U+0080 and U+009F" },
	{ "a\x9b" "31mb", "a?31mb", "raw CSI" },
	{ "a\x80\x90\x9f" "b", "a???b", "raw 0x80 to 0x9f" },
	{ "j\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x93\xab", "j\xc3\xb6rg \xe2\x82\xac "
	    "\xf0\x9f\x93\xab", "UTF-8 stays, 0x80-0x9f continuations too" },
	{ "\xc2\xa0\xc2\xbf", "\xc2\xa0\xc2\xbf", "U+00A0 and U+00BF stay" },
	{ "caf\xe9 \xa0", "caf\xe9 \xa0", "Latin-1 letters stay" },
	{ "\xe2\x82" "x", "\xe2?x", "a broken sequence: its C1-range byte goes" },
};

int
main(void)
{
	char	 buf[64];
	size_t	 i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		log_sanitize(buf, sizeof(buf), vec[i].in, strlen(vec[i].in));
		ok(strcmp(buf, vec[i].out) == 0, "log_sanitize: %s",
		    vec[i].what);
		strlcpy(buf, vec[i].in, sizeof(buf));
		log_scrub(buf, 0);
		ok(strcmp(buf, vec[i].out) == 0, "log_scrub: %s", vec[i].what);
	}
	log_sanitize(buf, 4, "ab\xc3\xb6", 4);
	ok(strcmp(buf, "ab") == 0, "log_sanitize never cuts a character in "
	    "half");
	strlcpy(buf, "a\nb\xc2\x9b", sizeof(buf));
	log_scrub(buf, 1);
	ok(strcmp(buf, "a\nb?") == 0, "log_scrub keeps newlines when asked");

	ok(utf8_text("j\xc3\xb6rg", 5), "utf8_text: UTF-8 letters");
	ok(!utf8_text("a\xc2\x9b", 3), "utf8_text: no C1");
	ok(!utf8_text("a\x9b", 2), "utf8_text: no raw C1");
	ok(!utf8_text("\xc0\xaf", 2), "utf8_text: no overlong form");
	ok(!utf8_text("\xed\xa0\x80", 3), "utf8_text: no surrogate");
	ok(!utf8_text("\xf4\x90\x80\x80", 4), "utf8_text: nothing past "
	    "U+10FFFF");
	ok(!utf8_text("a\xe2\x82", 3), "utf8_text: no truncated sequence");
	return tap_done();
}
