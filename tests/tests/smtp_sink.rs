//! The tests' mail server is a real one: a message spoken to it in SMTP
//! lands in its Maildir whole, and once stopped it refuses connections, as
//! a dead mail server does.

use edufed_tests::smtp::SmtpSink;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

/// Says `line` (unless empty) and reads the reply, checking its code.
async fn say(lines: &mut BufReader<tokio::net::TcpStream>, line: &str, code: &str) -> String {
    if !line.is_empty() {
        lines
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
    }
    let mut reply = String::new();
    loop {
        let mut one = String::new();
        lines.read_line(&mut one).await.unwrap();
        reply.push_str(&one);
        // A multi-line reply continues with "250-", ends with "250 ".
        if one.len() < 4 || one.as_bytes()[3] != b'-' {
            break;
        }
    }
    assert!(reply.starts_with(code), "{line}: {reply}");
    reply
}

#[tokio::test]
async fn a_message_sent_in_smtp_lands_in_the_maildir() {
    let Some(mut sink) = SmtpSink::start().await else {
        return;
    };
    let stream = tokio::net::TcpStream::connect(sink.addr).await.unwrap();
    let mut smtp = BufReader::new(stream);
    say(&mut smtp, "", "220").await;
    say(&mut smtp, "EHLO node.example", "250").await;
    say(&mut smtp, "MAIL FROM:<edufed@node.example>", "250").await;
    say(&mut smtp, "RCPT TO:<deputy@gym24.example>", "250").await;
    say(&mut smtp, "DATA", "354").await;
    let message = "From: edufed <edufed@node.example>\r\n\
                   To: deputy@gym24.example\r\n\
                   Subject: =?utf-8?b?0JPRgNGD0L/Qv9CwINC30LDQv9C40YHQsNC90LA=?=\r\n\
                   Message-ID: <42.deputy.registration_promoted@node.example>\r\n\
                   Content-Type: text/plain; charset=utf-8\r\n\
                   \r\n\
                   Места освободились.\r\n.";
    say(&mut smtp, message, "250").await;
    say(&mut smtp, "QUIT", "221").await;

    let received = sink.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert!(received[0].contains("Message-ID: <42.deputy.registration_promoted@node.example>"));
    assert!(
        received[0].contains("Места освободились."),
        "{}",
        received[0]
    );

    sink.stop().await;
    assert!(tokio::net::TcpStream::connect(sink.addr).await.is_err());
    assert_eq!(sink.messages().len(), 1, "what it received stays");
}
