//! What a hostile client tried and the node now refuses, naming the field:
//! a right-to-left override in a name or a title, a recurrence whose
//! later occurrences run past the years the node keeps, and bytes that are
//! not the method's message (INVALID_ARGUMENT, not INTERNAL).

use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestNode, both_backends, org_request, public_course};
use tonic::Code;
use tonic_types::StatusExt as _;

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

both_backends!(
    invisible_formatting_and_far_occurrences_are_refused,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut operator = node.operator().await;
        let spoofed = operator
            .create_organization(pb::CreateOrganizationRequest {
                short_name: "Лицей \u{202E}7№".into(),
                ..org_request("spoofed")
            })
            .await
            .unwrap_err();
        assert_eq!(spoofed.code(), Code::InvalidArgument);
        assert_eq!(field_of(&spoofed), "short_name");
        operator
            .create_organization(org_request("lyceum7"))
            .await
            .unwrap();
        let coordinator = node.member_token("lyceum7", pb::Role::Coordinator).await;
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            node.channel().await,
            Bearer::new(&coordinator),
        );
        let publish = |details: pb::ActivityDetails| pb::PublishActivityRequest {
            publisher: "lyceum7".into(),
            details: Some(details),
            draft: false,
        };
        let titled = calendar
            .publish_activity(publish(pb::ActivityDetails {
                title: "Курс\u{200B}робототехники".into(),
                ..public_course("x", 10)
            }))
            .await
            .unwrap_err();
        assert_eq!(field_of(&titled), "details.title");
        let mut far = public_course("Юбилейная встреча выпускников", 10);
        far.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
            rule: "FREQ=YEARLY;INTERVAL=1000;COUNT=100".into(),
            ..Default::default()
        });
        let refused = calendar.publish_activity(publish(far)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(field_of(&refused), "details.schedule.recurrence.rule");
        // Nothing was stored.
        let listed = operator
            .list_organizations(pb::ListOrganizationsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .organizations;
        assert!(listed.iter().all(|o| o.slug != "spoofed"));
    }
);

/// Sends and receives bytes as they are, to put on the wire what no
/// generated client would.
#[derive(Clone, Default)]
struct Raw;

struct RawCoder;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCoder;
    type Decoder = RawCoder;

    fn encoder(&mut self) -> Self::Encoder {
        RawCoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCoder
    }
}

impl tonic::codec::Encoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut as _;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf as _;
        let bytes = src.chunk().to_vec();
        src.advance(bytes.len());
        Ok(Some(bytes))
    }
}

both_backends!(
    undecodable_bytes_are_the_clients_fault,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut grpc = tonic::client::Grpc::new(node.channel().await);
        for method in [
            "/edufed.v1.Directory/GetOrganization",
            "/edufed.v1.Calendar/ListOccurrences",
        ] {
            grpc.ready().await.unwrap();
            let answer = grpc
                .unary(
                    tonic::Request::new(vec![0x0a, 0x01, 0xff]),
                    http::uri::PathAndQuery::from_static(method),
                    Raw,
                )
                .await
                .unwrap_err();
            assert_eq!(answer.code(), Code::InvalidArgument, "{method}: {answer:?}");
            assert_eq!(field_of(&answer), "request");
        }
    }
);
