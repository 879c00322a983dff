-- Responses for the HTTP/1.1 reader (lua/purecloud/http1.lua), one per rule
-- of its grammar: the hermetic spec feeds them to the reader, the hostile
-- nginx server writes them to a real socket (spec/hostile/framing_spec.lua,
-- for our cosocket transport and for libcurl), and fuzz/http1.lua starts
-- from them. Each case: `rule` (the grammar's number), `wire` (the bytes,
-- answering a GET unless `method`), and either `body` (accepted; `headers`
-- checked when given) or `refused` ("framing", "too_large" or "eof"; `says`:
-- a pattern the refusal's message must match).
-- Not a spec.
local M = {}

local function chunked(body) return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" .. body end
local function head(fields, body) return "HTTP/1.1 200 OK\r\n" .. fields .. "\r\n" .. (body or "") end

M.cases = {
  -- accepted
  { name = "length", rule = 7, wire = head("Content-Length: 5\r\n", "hello"), body = "hello" },
  { name = "chunked", rule = 6, wire = chunked("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"), body = "hello world" },
  { name = "chunk_ext_quoted", rule = 6, wire = chunked('5;a="x; y"\r\nhello\r\n0\r\n\r\n'), body = "hello" },
  { name = "chunk_ext_quoted_pair", rule = 6, wire = chunked('5;a="x\\"y";b=c\r\nhello\r\n0\r\n\r\n'), body = "hello" },
  { name = "chunk_ext_bws", rule = 6, wire = chunked("5 ; a = b\r\nhello\r\n0\r\n\r\n"), body = "hello" },
  { name = "chunk_trailers", rule = 6, wire = chunked("5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n"), body = "hello" },
  -- (found by fuzz/http1.lua: a trailer fold split across reads raised)
  { name = "chunk_trailer_fold", rule = 6, wire = chunked("2\r\nhi\r\n0\r\nX-T: a\r\n b\r\n\r\n"), body = "hi" },
  { name = "chunk_leading_zeros", rule = 6, wire = chunked("00000000000000000002\r\nhi\r\n0\r\n\r\n"), body = "hi" },
  { name = "lf_only", rule = 1, wire = "HTTP/1.1 200 OK\nContent-Length: 2\nX-A: b\n\nhi", body = "hi",
    headers = { ["x-a"] = "b" } },
  { name = "lf_only_chunked", rule = 1, wire = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n",
    body = "hi" },
  { name = "no_reason", rule = 2, wire = "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nhi", body = "hi" },
  { name = "empty_reason", rule = 2, wire = "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nhi", body = "hi" },
  { name = "interim_100", rule = 2, wire = "HTTP/1.1 100 Continue\r\n\r\n" .. head("Content-Length: 2\r\n", "hi"),
    body = "hi" },
  { name = "te_case", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    body = "hi" },
  { name = "te_empty_element", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: , chunked\r\n\r\n"
    .. "2\r\nhi\r\n0\r\n\r\n", body = "hi" },
  { name = "length_repeated", rule = 5, wire = head("Content-Length: 2, 2\r\nContent-Length: 2\r\n", "hi"), body = "hi" },
  { name = "length_ows", rule = 5, wire = head("Content-Length:\t2 \r\n", "hi"), body = "hi" },
  { name = "obs_fold", rule = 3, wire = head("X-A: a\r\n  b\r\nContent-Length: 0\r\n"), body = "",
    headers = { ["x-a"] = "a b" } },
  { name = "repeated_field", rule = 3, wire = head("X-A: 1\r\nX-A: 2\r\nContent-Length: 0\r\n"), body = "",
    headers = { ["x-a"] = "1, 2" } },
  { name = "close_delimited", rule = 7, wire = head("Connection: close\r\n", "to the end"), body = "to the end" },
  { name = "head_no_body", rule = 7, method = "HEAD", wire = head("Content-Length: 5\r\n"), body = "" },
  { name = "no_content", rule = 7, wire = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", body = "" },
  { name = "not_modified", rule = 7, wire = "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", body = "" },

  -- refused: rule 1, line endings
  { name = "bare_cr_header", rule = 1, wire = head("Header1: a\rHeader2: b\r\nContent-Length: 0\r\n"),
    refused = "framing" },
  { name = "bare_cr_status", rule = 1, wire = "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n", refused = "framing" },
  { name = "bare_cr_chunk", rule = 1, wire = chunked("2\r\r\nhi\r\n0\r\n\r\n"), refused = "framing" },
  { name = "bare_cr_end", rule = 1, wire = head("Content-Length: 0\r\n\r"), refused = "framing" },
  -- rule 2, the status line
  { name = "bad_version", rule = 2, wire = "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", refused = "framing" },
  { name = "lower_case_version", rule = 2, wire = "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", refused = "framing" },
  { name = "four_digit_status", rule = 2, wire = "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", refused = "framing" },
  { name = "status_out_of_range", rule = 2, wire = "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", refused = "framing" },
  { name = "status_no_space", rule = 2, wire = "HTTP/1.1 200OK\r\nContent-Length: 0\r\n\r\n", refused = "framing" },
  { name = "unasked_101", rule = 2, wire = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
    refused = "framing" },
  { name = "endless_interim", rule = 2, wire = ("HTTP/1.1 100 Continue\r\n\r\n"):rep(20), refused = "framing" },
  -- rule 3, field lines
  { name = "space_before_colon", rule = 3, wire = head("Content-Length : 2\r\n", "hi"), refused = "framing" },
  { name = "nul_in_value", rule = 3, wire = head("X-A: a\0b\r\nContent-Length: 0\r\n"), refused = "framing" },
  { name = "ctl_in_value", rule = 3, wire = head("X-A: a\1b\r\nContent-Length: 0\r\n"), refused = "framing" },
  { name = "bad_field_name", rule = 3, wire = head("X A: b\r\nContent-Length: 0\r\n"), refused = "framing" },
  { name = "no_colon", rule = 3, wire = head("Content-Length 0\r\n"), refused = "framing" },
  { name = "fold_first", rule = 3, wire = "HTTP/1.1 200 OK\r\n X-A: b\r\nContent-Length: 0\r\n\r\n",
    refused = "framing" },
  -- rule 4, Transfer-Encoding
  { name = "te_substring", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedchunked\r\n\r\n"
    .. "2\r\nhi\r\n0\r\n\r\n", refused = "framing" },
  { name = "te_not_last", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
    .. "2\r\nhi\r\n0\r\n\r\n", refused = "framing" },
  { name = "te_twice", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
    .. "\r\n2\r\nhi\r\n0\r\n\r\n", refused = "framing" },
  { name = "te_unknown", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\nhi", refused = "framing" },
  { name = "te_empty", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n\r\nhi", refused = "framing" },
  { name = "te_and_length", rule = 4, wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n"
    .. "\r\n2\r\nhi\r\n0\r\n\r\n", refused = "framing" },
  { name = "te_http10", rule = 4, wire = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    refused = "framing" },
  -- rule 5, Content-Length
  { name = "length_differs", rule = 5, wire = head("Content-Length: 5, 7\r\n", "hello"), refused = "framing" },
  { name = "length_headers_differ", rule = 5, wire = head("Content-Length: 2\r\nContent-Length: 3\r\n", "hi!"),
    refused = "framing" },
  { name = "length_sign", rule = 5, wire = head("Content-Length: +2\r\n", "hi"), refused = "framing" },
  { name = "length_negative", rule = 5, wire = head("Content-Length: -1\r\n", "hi"), refused = "framing" },
  { name = "length_hex", rule = 5, wire = head("Content-Length: 0x2\r\n", "hi"), refused = "framing" },
  { name = "length_space_inside", rule = 5, wire = head("Content-Length: 1 2\r\n", "hi"), refused = "framing" },
  { name = "length_empty", rule = 5, wire = head("Content-Length:\r\n", "hi"), refused = "framing" },
  { name = "length_huge", rule = 5, wire = head("Content-Length: 1234567890123456789\r\n", "hi"), refused = "framing" },
  -- rule 6, chunks
  { name = "chunk_trailing_space", rule = 6, wire = chunked("2  \r\nhi\r\n0\r\n\r\n"), refused = "framing" },
  { name = "chunk_ext_no_name", rule = 6, wire = chunked("2;\r\nhi\r\n0\r\n\r\n"), refused = "framing" },
  { name = "chunk_ext_open_quote", rule = 6, wire = chunked('2;a="x\r\nhi\r\n0\r\n\r\n'), refused = "framing" },
  { name = "chunk_ext_bad_value", rule = 6, wire = chunked("2;a=@\r\nhi\r\n0\r\n\r\n"), refused = "framing" },
  { name = "chunk_bad_size", rule = 6, wire = chunked("zz\r\nhello\r\n0\r\n\r\n"), refused = "framing" },
  { name = "chunk_negative", rule = 6, wire = chunked("-5\r\nhello\r\n0\r\n\r\n"), refused = "framing" },
  { name = "chunk_0x", rule = 6, wire = chunked("0x2\r\nhi\r\n0\r\n\r\n"), refused = "framing" },
  -- (found by fuzz/http1.lua: 16 hex digits wrapped to -1 in Lua 5.4)
  { name = "chunk_wraps", rule = 6, wire = chunked("ffffffffffffffff\r\nhello\r\n0\r\n\r\n"), refused = "framing",
    says = "bad chunk%-size line" },
  { name = "chunk_overflow", rule = 6, wire = chunked("ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"), refused = "framing" },
  { name = "chunk_no_crlf", rule = 6, wire = chunked("5\r\nhelloXX6\r\n world\r\n0\r\n\r\n"), refused = "framing" },
  { name = "chunk_bad_trailer", rule = 3, wire = chunked("2\r\nhi\r\n0\r\nBad Trailer\r\n\r\n"), refused = "framing" },
  -- rule 7, the body's end
  { name = "no_content_with_te", rule = 7, wire = "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"
    .. "0\r\n\r\n", refused = "framing" },
  { name = "no_content_with_length", rule = 7, wire = "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\nhi",
    refused = "framing" },
  { name = "short_length", rule = 7, wire = head("Content-Length: 10\r\n", "hi"), refused = "eof" },
  { name = "short_chunk", rule = 7, wire = chunked("a\r\nhi"), refused = "eof" },
  { name = "no_last_chunk", rule = 7, wire = chunked("2\r\nhi\r\n"), refused = "eof" },
}

M.by_name = {}
for _, c in ipairs(M.cases) do
  assert(not M.by_name[c.name], c.name)
  M.by_name[c.name] = c
end

-- Two responses in one write: the first malformed (or followed by bytes it
-- did not announce), the second an answer nobody asked for. A client that
-- kept the connection would take the second as the answer to its next call.
M.SMUGGLED = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n\"SMUGGLED\""
-- (The spec also has the server keep the connection and answer the next
-- request on it with the second response: a client that kept a connection
-- after a framing error would take it.)
M.back_to_back = {
  te_substring = M.by_name.te_substring.wire,
  bare_cr_header = M.by_name.bare_cr_header.wire,
  te_and_length = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n0\r\n\r\n",
  length_differs = "HTTP/1.1 200 OK\r\nContent-Length: 2, 7\r\n\r\nhi",
  chunk_trailing_space = M.by_name.chunk_trailing_space.wire,
  -- accepted, but more bytes follow it in the same write
  trailing_bytes = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
}

return M
